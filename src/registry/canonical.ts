/**
 * Versions: a view's version is a hash of the canonical JSON of what determines its data
 * (entity keys, source, ttl, features). Key order and formatting never change it;
 * descriptions, tags, owner and schedule don't either (they don't change a number).
 */
import { hashOf } from "../ids.ts";
import type { EntityDef, FeatureViewDef, PushSourceDef, SourceDef } from "../definitions/types.ts";

/** The part of a view's definition that decides its numbers. */
export function semanticView(view: FeatureViewDef, entity: EntityDef, source: SourceDef, push: PushSourceDef | null = null) {
  return {
    entity: { name: entity.name, joinKeys: entity.joinKeys },
    source:
      source.kind === "file"
        ? { kind: source.kind, path: source.path, format: source.format, timestampField: source.timestampField, schema: source.schema }
        : { kind: source.kind, connection: source.connection, table: source.table, query: source.query, timestampField: source.timestampField, schema: source.schema },
    // Absent for file sources, so their versions are what they were before push sources.
    push: push ? { name: push.name, eventIdField: push.eventIdField } : undefined,
    ttl: view.ttl,
    // Sorted by name: declaration order is not semantic (see windows/view-layout.ts).
    features: [...view.features].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => ({ ...f, description: undefined })),
  };
}

export const viewVersion = (view: FeatureViewDef, entity: EntityDef, source: SourceDef, push: PushSourceDef | null = null): string =>
  hashOf(semanticView(view, entity, source, push));
