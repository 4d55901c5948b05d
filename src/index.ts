/**
 * The public module feature files import as "larder".
 *
 *   import { entity, fileSource, featureView, featureService, mean, count, sql } from "larder";
 */
export {
  entity,
  fileSource,
  databaseSource,
  pushSource,
  featureView,
  onDemandFeatureView,
  featureService,
  sql,
  count,
  sum,
  mean,
  min,
  max,
  stddev,
  last,
  notNull,
  between,
  allowedValues,
  uniqueKeyPerTimestamp,
  maxNullFraction,
  rowCount,
  fresh,
  meanBetween,
  stddevBetween,
  psi,
} from "./definitions/dsl.ts";
export type { Entity, Source, PushSource, FeatureView, FeatureService } from "./definitions/dsl.ts";
export { greatExpectations } from "./definitions/great-expectations.ts";
