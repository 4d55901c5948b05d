/**
 * Refusals on Feast's routes (/get-online-features, /push) as Feast's feature server answers
 * them, so Feast's client raises the same typed exceptions: a missing object is the body
 * `"{\"module\": \"feast.errors\", \"class\": …, \"message\": …}"` (a JSON string, which
 * `FeastError.from_error_detail` turns back into the class) with the class's status: 404
 * for a missing view, service, entity or source, 422 for a missing push source. Other bad
 * input is 422 `{ detail }`, as FastAPI's validation answers.
 */
import { LarderError, type MissingKind, NotFoundError } from "../../errors.ts";

const FEAST_CLASSES: Record<MissingKind, { class: string; status: number }> = {
  feature_view: { class: "FeatureViewNotFoundException", status: 404 },
  on_demand_view: { class: "OnDemandFeatureViewNotFoundException", status: 404 },
  feature_service: { class: "FeatureServiceNotFoundException", status: 404 },
  entity: { class: "EntityNotFoundException", status: 404 },
  data_source: { class: "DataSourceObjectNotFoundException", status: 404 },
  push_source: { class: "PushSourceNotFoundException", status: 422 },
};

/** Feast's answer to a refused request, or undefined for a server error (answered as on every route). */
export function feastRefusal(err: unknown): Response | undefined {
  if (!(err instanceof LarderError) || err.status >= 500) return undefined;
  if (err instanceof NotFoundError && err.missing) {
    const feast = FEAST_CLASSES[err.missing.kind];
    return Response.json(JSON.stringify({ module: "feast.errors", class: feast.class, message: err.message }), { status: feast.status });
  }
  return Response.json({ detail: err.message }, { status: err.status === 400 ? 422 : err.status });
}
