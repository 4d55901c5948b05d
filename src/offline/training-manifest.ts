/**
 * A training set's manifest, written beside it (`<out>.manifest.json`): the features with
 * their view versions, the label table's fingerprint (with its SHA-256), every view's
 * source fingerprint, and the window-semantics version. `larder historical
 * --from-manifest` rebuilds the set from it: byte-identical when nothing changed, and an
 * error naming what changed when something did.
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };
import type { FeatureRef } from "../definitions/types.ts";
import { LarderError } from "../errors.ts";
import { isS3Url, parseS3Url } from "../storage/s3-location.ts";
import type { StoredFile } from "../storage/storage.ts";
import { withContentHashes } from "./content-hash.ts";
import type { HistoricalResult } from "./historical.ts";
import type { OfflineContext } from "./offline-context.ts";
import type { SourceFingerprint } from "./source-fingerprint.ts";

/** Bumped when the meaning of window, ttl or point-in-time rules changes (ARCHITECTURE.md). */
export const WINDOW_SEMANTICS_VERSION = 1;

const ManifestFileSchema = z.object({ path: z.string(), size: z.number(), mtimeMs: z.number().optional(), etag: z.string().optional(), sha256: z.string().nullable().optional() });

/** A training set's manifest as written beside it; checked when read back. */
export const TrainingManifestSchema = z.object({
  format: z.literal(1),
  windowSemantics: z.number(),
  larder: z.string(),
  createdAt: z.string(),
  runId: z.string(),
  request: z.object({ features: z.array(z.string()), timestampColumn: z.string().nullable(), fullNames: z.boolean() }),
  labels: ManifestFileSchema.extend({ rows: z.number() }),
  views: z.array(z.object({ view: z.string(), version: z.string(), rows: z.number(), fingerprint: z.object({ hash: z.string(), files: z.array(ManifestFileSchema) }) })),
  output: z.object({ path: z.string(), rows: z.number(), columns: z.array(z.string()), sha256: z.string() }),
  /** The training set's feature profile (drift reference: `larder drift --reference <runId>`). */
  profile: z.string().optional(),
});
export type TrainingManifest = z.infer<typeof TrainingManifestSchema>;
type ManifestFile = z.infer<typeof ManifestFileSchema>;

export class ManifestMismatchError extends LarderError {
  override readonly code = "manifest_mismatch";
  override readonly status = 409;
}

export const manifestPath = (out: string) => `${out}.manifest.json`;

export async function buildManifest(
  runId: string,
  req: { refs: FeatureRef[]; timestampColumn?: string; fullNames?: boolean; labelsPath: string; outPath: string },
  result: HistoricalResult,
): Promise<TrainingManifest> {
  const [hashed] = await withContentHashes([result.labels]);
  return {
    format: 1,
    windowSemantics: WINDOW_SEMANTICS_VERSION,
    larder: pkg.version,
    createdAt: new Date().toISOString(),
    runId,
    request: { features: req.refs.map((r) => `${r.view}:${r.feature}`), timestampColumn: req.timestampColumn ?? null, fullNames: req.fullNames === true },
    labels: { ...hashed!, rows: result.rows },
    views: await Promise.all(
      result.views.map(async (v) => ({
        view: v.view,
        version: v.version,
        rows: v.table.rows,
        fingerprint: { hash: v.table.fingerprint.hash, files: await withContentHashes(v.table.fingerprint.files) },
      })),
    ),
    output: { path: req.outPath, rows: result.rows, columns: result.columns, sha256: result.outputSha256! },
  };
}

export async function writeManifest(ctx: OfflineContext, out: string, manifest: TrainingManifest): Promise<string> {
  const path = manifestPath(out);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  if (isS3Url(path)) {
    const { bucket, key } = parseS3Url(path);
    await ctx.storage.s3.writeText(bucket, key, text);
  } else {
    writeFileSync(path, text);
  }
  return path;
}

/**
 * What differs between the files a manifest recorded and the files there are now. Where the
 * sizes match and the manifest holds a SHA-256, the content decides: a `touch`ed file is
 * the same file.
 */
export async function fileChanges(before: ManifestFile[], now: StoredFile[]): Promise<string[]> {
  const was = new Map(before.map((f) => [f.path, f]));
  const is = new Map(now.map((f) => [f.path, f]));
  const out: string[] = [];
  for (const [path, f] of was) {
    const g = is.get(path);
    if (!g) out.push(`${path} is gone`);
    else if (f.size !== g.size || f.etag !== g.etag) out.push(`${path} changed (${howChanged(f, g)})`);
    else if (f.mtimeMs !== g.mtimeMs) {
      const [hashed] = f.sha256 ? await withContentHashes([g]) : [];
      if (!f.sha256 || !hashed?.sha256) out.push(`${path} changed (${howChanged(f, g)})`);
      else if (hashed.sha256 !== f.sha256) out.push(`${path} changed (sha256 ${f.sha256} → ${hashed.sha256})`);
    }
  }
  for (const path of is.keys()) if (!was.has(path)) out.push(`${path} is new`);
  return out;
}

function howChanged(f: StoredFile, g: StoredFile): string {
  if (f.size !== g.size) return `size ${f.size} → ${g.size}`;
  if (f.etag !== g.etag) return `ETag ${f.etag} → ${g.etag}`;
  return `modified ${new Date(f.mtimeMs!).toISOString()} → ${new Date(g.mtimeMs!).toISOString()}`;
}

/** The label table as the manifest recorded it, or an error saying how it changed. */
export async function checkLabels(ctx: OfflineContext, manifest: TrainingManifest): Promise<void> {
  const now = await ctx.storage.match(manifest.labels.path);
  if (now.length === 0) throw new ManifestMismatchError(`label table ${manifest.labels.path} is gone`);
  const [hashed] = await withContentHashes(now);
  const same = manifest.labels.sha256 && hashed!.sha256 ? manifest.labels.sha256 === hashed!.sha256 : (await fileChanges([manifest.labels], now)).length === 0;
  if (!same) {
    const how =
      manifest.labels.size !== now[0]!.size || manifest.labels.etag !== now[0]!.etag
        ? howChanged(manifest.labels, now[0]!)
        : `sha256 ${manifest.labels.sha256} → ${hashed!.sha256}`;
    throw new ManifestMismatchError(`label table ${manifest.labels.path} changed since the manifest (${how})`);
  }
}

export async function checkSources(view: string, recorded: TrainingManifest["views"][number]["fingerprint"], now: SourceFingerprint): Promise<string[]> {
  return recorded.hash === now.hash ? [] : (await fileChanges(recorded.files, now.files)).map((c) => `feature view "${view}": ${c}`);
}
