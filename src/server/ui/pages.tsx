/** @jsxImportSource hono/jsx */
/** The UI's pages, rendered on the server from what the API serves. */
import type { FC } from "hono/jsx";
import { html } from "hono/html";
import type { FeatureProfile } from "../../monitoring/feature-profile.ts";
import type { FeatureDrift } from "../../monitoring/drift.ts";
import type { ViewFreshness } from "../../monitoring/freshness.ts";
import type { Registry } from "../../registry/registry.ts";
import type { RunRecord } from "../../registry/runs.ts";
import { runNote } from "../../registry/run-note.ts";
import { describeRule } from "../../validation/rule-sql.ts";
import { scheduleOf } from "../../definitions/schedule.ts";
import { Bars, Histogram, LineageGraph } from "./charts.tsx";
import { Layout, when } from "./layout.tsx";

const Status: FC<{ status: string | null | undefined }> = ({ status }) =>
  status ? <span class={status === "succeeded" ? "ok" : status === "failed" ? "bad" : "warn"}>{status}</span> : <span class="muted">—</span>;

const age = (seconds: number | null) =>
  seconds === null
    ? "—"
    : seconds < 120
      ? `${Math.round(seconds)} s`
      : seconds < 7200
        ? `${Math.round(seconds / 60)} min`
        : seconds < 172_800
          ? `${Math.round(seconds / 3600)} h`
          : `${Math.round(seconds / 86_400)} d`;

/** A duration in ms as people write it: "10 min", "4 h", "30 d", "1 h 30 min". */
export function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1000, "s"],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.length ? parts.join(" ") : `${ms} ms`;
}

export const CatalogPage: FC<{ registry: Registry; freshness: ViewFreshness[] }> = ({ registry, freshness }) => {
  const fresh = new Map(freshness.map((f) => [f.view, f]));
  return (
    <Layout title="Catalog">
      <h1>Catalog</h1>
      <section class="card">
        <h2>Feature views</h2>
        <table>
          <tr>
            <th>view</th>
            <th>entity</th>
            <th>source</th>
            <th>version</th>
            <th>served</th>
            <th>features</th>
            <th>newest event</th>
            <th>last run</th>
          </tr>
          {registry.viewEntries().map((e) => {
            const f = fresh.get(e.definition.name);
            return (
              <tr>
                <td>
                  <a href={`/ui/views/${encodeURIComponent(e.definition.name)}`}>{e.definition.name}</a>
                </td>
                <td>{e.definition.entity}</td>
                <td>{e.definition.source}</td>
                <td class="mono">@{e.current}</td>
                <td class="mono">{f?.served ? `@${f.served.version}` : <span class="muted">not served</span>}</td>
                <td>{e.definition.features.length}</td>
                <td>{f?.newestEvent ? `${when(f.newestEvent)} (${age(f.ageSeconds)} ago)` : "—"}</td>
                <td>
                  <Status status={f?.lastRun?.status} />
                </td>
              </tr>
            );
          })}
        </table>
      </section>
      {registry.onDemandViews().length ? (
        <section class="card">
          <h2>On-demand feature views</h2>
          <table>
            <tr>
              <th>view</th>
              <th>request data</th>
              <th>reads</th>
              <th>features</th>
            </tr>
            {registry.onDemandViews().map((o) => (
              <tr>
                <td>
                  <a href={`/ui/on-demand/${encodeURIComponent(o.name)}`}>{o.name}</a>
                </td>
                <td class="mono">{o.request.map((c) => c.name).join(", ")}</td>
                <td>{o.inputs.join(", ") || "—"}</td>
                <td>{o.output.length}</td>
              </tr>
            ))}
          </table>
        </section>
      ) : null}
      <div class="grid">
        <section class="card">
          <h2>Entities</h2>
          <table>
            {registry.entities().map((e) => (
              <tr>
                <td>{e.name}</td>
                <td class="mono">{e.joinKeys.map((k) => `${k.name}: ${k.type}`).join(", ")}</td>
              </tr>
            ))}
          </table>
        </section>
        <section class="card">
          <h2>Sources</h2>
          <table>
            {registry.sources().map((s) => (
              <tr>
                <td>{s.name}</td>
                <td class="mono">{s.kind === "file" ? s.path : s.table ? `table ${s.table}` : "query"}</td>
              </tr>
            ))}
            {registry.pushSources().map((p) => (
              <tr>
                <td>{p.name}</td>
                <td class="mono">push → {p.batchSource}</td>
              </tr>
            ))}
          </table>
        </section>
        <section class="card">
          <h2>Feature services</h2>
          <table>
            {registry.services().map((s) => (
              <tr>
                <td>{s.name}</td>
                <td>{s.features.length} features</td>
                <td>
                  <a href={`/ui/lookup?service=${encodeURIComponent(s.name)}`}>look up</a>
                </td>
              </tr>
            ))}
          </table>
        </section>
      </div>
    </Layout>
  );
};

export type ViewPageData = {
  registry: Registry;
  view: string;
  freshness: ViewFreshness | null;
  runs: RunRecord[];
  profile: FeatureProfile[] | null;
  drift: FeatureDrift[];
};

export const ViewPage: FC<ViewPageData> = ({ registry, view, freshness, runs, profile, drift }) => {
  const entry = registry.viewEntry(view)!;
  const def = entry.definition;
  const push = registry.view(view).push;
  const sources = push ? [`${push.batchSource} (batch)`, `${push.name} (push)`] : [def.source];
  const services = registry.servicesReading(view).map((s) => s.name);
  // The source's expectations gate this view's materializations too.
  const sourceName = push ? push.batchSource : def.source;
  const sourceExpectations = registry.source(sourceName).expectations;
  const lastValidation = runs.find((r) => r.kind === "materialize" && r.validation)?.validation ?? null;
  const schedule = scheduleOf(def.schedule);
  return (
    <Layout title={view}>
      <h1>
        Feature view {view} <span class="mono muted">@{entry.current}</span>
      </h1>
      <p class="muted">
        {def.description || "No description."} · Entity <b>{def.entity}</b>; ttl {def.ttl === null ? "none" : duration(def.ttl)}; {entry.versions.length} version
        {entry.versions.length === 1 ? "" : "s"} applied{schedule ? `; schedule ${schedule.cron} (${schedule.timezone ?? "UTC"})` : ""}.
      </p>
      <section class="card">
        <h2>Lineage</h2>
        <LineageGraph sources={sources} view={`${view} @${entry.current}`} services={services} />
      </section>
      <div class="grid">
        <section class="card">
          <h2>Freshness</h2>
          {freshness ? (
            <table>
              <tr>
                <td>served</td>
                <td class="mono">{freshness.served ? `@${freshness.served.version}` : "nothing yet"}</td>
              </tr>
              <tr>
                <td>complete up to</td>
                <td>{when(freshness.served?.watermark)}</td>
              </tr>
              <tr>
                <td>newest event</td>
                <td>
                  {when(freshness.newestEvent)} ({age(freshness.ageSeconds)} ago)
                </td>
              </tr>
              <tr>
                <td>last run</td>
                <td>
                  <Status status={freshness.lastRun?.status} /> {when(freshness.lastRun?.at)}
                </td>
              </tr>
              {freshness.schedule ? (
                <tr>
                  <td>schedule</td>
                  <td>
                    next {when(freshness.schedule.nextTick)};{" "}
                    {freshness.schedule.lagSeconds > 0 ? <span class="bad">overdue {age(freshness.schedule.lagSeconds)}</span> : <span class="ok">on time</span>}
                  </td>
                </tr>
              ) : null}
            </table>
          ) : (
            <p class="muted">Not served online.</p>
          )}
        </section>
        <section class="card">
          <h2>Expectations</h2>
          {def.expectations?.length ? (
            <ul>
              {def.expectations.map((e) => (
                <li class="mono">
                  {describeRule(e)} <span class="muted">({e.severity})</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">None declared on the view.</p>
          )}
          {sourceExpectations.length ? (
            <>
              <p>
                From its source <b>{sourceName}</b>:
              </p>
              <ul>
                {sourceExpectations.map((e) => (
                  <li class="mono">
                    {describeRule(e)} <span class="muted">({e.severity})</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {lastValidation ? (
            <p>
              Last materialization: {lastValidation.passed ? <span class="ok">passed</span> : <span class="bad">failed</span>}
              {lastValidation.failed.map((m) => (
                <div class="bad mono">✖ {m}</div>
              ))}
              {lastValidation.warnings.map((m) => (
                <div class="warn mono">! {m}</div>
              ))}
            </p>
          ) : null}
        </section>
      </div>
      <section class="card">
        <h2>Features</h2>
        <table>
          <tr>
            <th>feature</th>
            <th>definition</th>
            <th>description</th>
          </tr>
          {def.features.map((f) => (
            <tr>
              <td>{f.name}</td>
              <td class="mono">
                {f.kind === "expression"
                  ? `sql(${f.sql})`
                  : `${f.function}(${f.of ?? "*"}, ${f.window === null ? "lifetime" : duration(f.window)}${f.hop ? `, hop ${duration(f.hop)}` : ""})`}
              </td>
              <td class="muted">{f.description}</td>
            </tr>
          ))}
        </table>
      </section>
      {drift.length ? (
        <section class="card">
          <h2>Drift (PSI) against {drift[0]!.reference.source}</h2>
          <Bars
            label={`drift of ${view}`}
            threshold={drift[0]!.thresholds.psi}
            rows={drift.filter((d) => d.psi !== null).map((d) => ({ label: d.feature, value: d.psi!, over: d.drifting }))}
          />
          <table>
            <tr>
              <th>feature</th>
              <th>psi</th>
              <th>ks</th>
              <th>current</th>
              <th>status</th>
            </tr>
            {drift.map((d) => (
              <tr>
                <td>{d.feature}</td>
                <td>{d.psi?.toFixed(4) ?? "—"}</td>
                <td>{d.ks?.toFixed(4) ?? "—"}</td>
                <td>
                  {d.current.source} ({d.current.values})
                </td>
                <td>{d.drifting ? <span class="bad">drifting ({trippedBy(d)})</span> : <span class="ok">ok</span>}</td>
              </tr>
            ))}
          </table>
        </section>
      ) : null}
      {profile ? (
        <section class="card">
          <h2>Distributions of served values (latest materialization)</h2>
          <div class="grid">
            {profile.map((p) => (
              <div>
                <div>
                  <b>{p.feature}</b>
                </div>
                <div class="muted nowrap">
                  {p.count - p.nulls} values, {p.nulls} null{p.kind === "numeric" && p.mean !== null ? `, mean ${p.mean.toFixed(3)}` : ""}
                </div>
                {p.kind === "numeric" ? (
                  p.histogram.counts.length ? (
                    <Histogram edges={p.histogram.edges} counts={p.histogram.counts} label={`distribution of ${p.feature}`} />
                  ) : (
                    <p class="muted">no values</p>
                  )
                ) : (
                  <table>
                    {p.top.slice(0, 6).map((t) => (
                      <tr>
                        <td class="mono">{t.value}</td>
                        <td>{t.count}</td>
                      </tr>
                    ))}
                  </table>
                )}
              </div>
            ))}
          </div>
        </section>
      ) : null}
      <section class="card">
        <h2>Runs</h2>
        <RunsTable runs={runs} />
      </section>
    </Layout>
  );
};

/** Which statistic crossed its threshold: "KS 0.412 > 0.2". */
function trippedBy(d: FeatureDrift): string {
  const over = [
    d.psi !== null && d.psi > d.thresholds.psi ? `PSI ${d.psi.toFixed(3)} > ${d.thresholds.psi}` : null,
    d.ks !== null && d.ks > d.thresholds.ks ? `KS ${d.ks.toFixed(3)} > ${d.thresholds.ks}` : null,
  ].filter(Boolean);
  return over.join(", ") || "over a threshold";
}

/** A run's note, clipped, with the whole of it on hover. */
const note = (text: string) => (text.length > 120 ? <span title={text}>{text.slice(0, 119)}…</span> : text);

export const RunsTable: FC<{ runs: RunRecord[] }> = ({ runs }) =>
  runs.length === 0 ? (
    <p class="muted">No runs yet.</p>
  ) : (
    <table>
      <tr>
        <th>run</th>
        <th>kind</th>
        <th>status</th>
        <th>views</th>
        <th>rows in → out</th>
        <th>seconds</th>
        <th>started</th>
        <th>by</th>
        <th>note</th>
      </tr>
      {runs.map((r) => (
        <tr>
          <td class="mono nowrap">
            <a href={`/ui/runs/${encodeURIComponent(r.id)}`}>{r.id}</a>
          </td>
          <td>{r.kind}</td>
          <td>
            <Status status={r.status} />
          </td>
          <td class="mono">{r.views.map((v) => `${v.view}@${v.version}`).join(" ")}</td>
          <td>
            {r.rows.in ?? "—"} → {r.rows.out ?? "—"}
          </td>
          <td class="nowrap">{(r.durationMs / 1000).toFixed(2)}</td>
          <td>
            <span class="nowrap">{when(r.startedAt)}</span>
          </td>
          <td class="muted">{r.startedBy.via}</td>
          <td>{note(runNote(r))}</td>
        </tr>
      ))}
    </table>
  );

export const RunsPage: FC<{ runs: RunRecord[]; kind: string | undefined }> = ({ runs, kind }) => (
  <Layout title="Runs">
    <h1>Run history</h1>
    <p>
      {["all", "materialize", "push", "historical"].map((k) => (
        <>
          {" "}
          <a href={k === "all" ? "/ui/runs" : `/ui/runs?kind=${k}`}>{k === (kind ?? "all") ? <b>{k}</b> : k}</a>
        </>
      ))}
    </p>
    <section class="card">
      <RunsTable runs={runs} />
    </section>
  </Layout>
);

export const LookupPage: FC<{ registry: Registry; service: string | undefined }> = ({ registry, service }) => {
  const services = registry.services().map((s) => s.name);
  const chosen = service && services.includes(service) ? service : services[0];
  const refs = chosen ? registry.service(chosen).features : [];
  // Join keys of the stored views the service reads (on-demand views have none of their own).
  const keys = [...new Set(refs.flatMap((r) => (registry.onDemandView(r.view) ? [] : registry.view(r.view).entity.joinKeys.map((k) => k.name))))];
  // On-demand features need request data (the amount being scored): one field per column.
  const onDemand = [...new Set(refs.map((r) => r.view))].flatMap((v) => registry.onDemandView(v) ?? []);
  const requestFields = [...new Map(onDemand.flatMap((o) => o.request).map((c) => [c.name, c])).values()];
  return (
    <Layout title="Lookup">
      <h1>Lookup playground</h1>
      <section class="card">
        <form class="inline" id="lookup">
          <label>
            feature service
            <select name="service" id="service">
              {services.map((s) => (
                <option value={s} selected={s === chosen}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          {keys.map((k) => (
            <label>
              {k} (comma-separated)
              <input name={k} class="key" value="1, 2, 3" />
            </label>
          ))}
          {requestFields.map((c) => (
            <label>
              {c.name} ({c.type}, request data)
              <input name={c.name} class="req" data-type={c.type} value={c.type === "string" ? "" : c.type === "bool" ? "false, false, false" : "10, 20, 30"} />
            </label>
          ))}
          <button type="submit" id="run">
            Look up
          </button>
        </form>
        <p class="muted">
          Runs <code>POST /v1/features/online</code> with your session's token.
        </p>
      </section>
      <section class="card">
        <div id="result" class="muted">
          No lookup yet.
        </div>
      </section>
      {html`<script>
document.getElementById("service").addEventListener("change", (e) => { location.search = "?service=" + encodeURIComponent(e.target.value); });
document.getElementById("lookup").addEventListener("submit", async (e) => {
  e.preventDefault();
  const entities = {};
  for (const input of document.querySelectorAll("input.key")) {
    entities[input.name] = input.value.split(",").map((v) => v.trim()).filter(Boolean).map((v) => (/^-?\\d+$/.test(v) ? Number(v) : v));
  }
  const requestData = {};
  for (const input of document.querySelectorAll("input.req")) {
    const type = input.dataset.type;
    requestData[input.name] = input.value.split(",").map((v) => v.trim()).map((v) => v === "" ? null : type === "bool" ? v === "true" : type === "string" || type === "timestamp" ? v : Number(v));
  }
  const request = { service: document.getElementById("service").value, entities };
  if (Object.keys(requestData).length) request.requestData = requestData;
  const out = document.getElementById("result");
  const res = await fetch("/v1/features/online", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
  const body = await res.json();
  if (!res.ok) { out.className = "bad"; out.textContent = res.status + " " + body.code + ": " + body.message; return; }
  const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const head = Object.keys(body.results[0].entity).concat(body.features);
  const rows = body.results.map((r) => Object.values(r.entity).concat(body.features.map((f) => r.statuses[f] === "present" ? (typeof r.values[f] === "number" ? Number(r.values[f].toFixed(4)) : r.values[f]) : r.statuses[f])));
  out.className = "";
  out.innerHTML = "<p class=muted>as of " + esc(body.at) + "</p><div class=scroll><table id=result-table><tr>" + head.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>" + rows.map((r) => "<tr>" + r.map((v) => "<td>" + esc(v) + "</td>").join("") + "</tr>").join("") + "</table></div>";
});
</script>`}
    </Layout>
  );
};

export const LoginPage: FC<{ next: string; error: string | null }> = ({ next, error }) => (
  <Layout title="Sign in">
    <h1>Sign in</h1>
    <section class="card">
      <p>
        This Larder needs a token with the <b>read</b> scope to show its pages.
      </p>
      {error ? <p class="bad">{error}</p> : null}
      <form class="inline" method="post" action="/ui/login">
        <input type="hidden" name="next" value={next} />
        <label>
          token
          <input type="password" name="token" autocomplete="off" />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </section>
  </Layout>
);
