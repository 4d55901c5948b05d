/** @jsxImportSource hono/jsx */
/** The UI's pages, rendered on the server from what the API serves. */
import type { FC } from "hono/jsx";
import { html } from "hono/html";
import type { FeatureProfile } from "../../materialize/feature-profile.ts";
import type { FeatureDrift } from "../../monitoring/drift.ts";
import type { ViewFreshness } from "../../monitoring/freshness.ts";
import type { RegistryData } from "../../registry/registry.ts";
import type { RunRecord } from "../../registry/runs.ts";
import { runNote } from "../../registry/run-note.ts";
import { describeRule } from "../../validation/rule-sql.ts";
import { scheduleOf } from "../../scheduler/cron.ts";
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

export const CatalogPage: FC<{ data: RegistryData; freshness: ViewFreshness[] }> = ({ data, freshness }) => {
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
          {Object.values(data.views)
            .sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1))
            .map((e) => {
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
      <div class="grid">
        <section class="card">
          <h2>Entities</h2>
          <table>
            {Object.values(data.entities).map((e) => (
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
            {Object.values(data.sources).map((s) => (
              <tr>
                <td>{s.name}</td>
                <td class="mono">{s.kind === "file" ? s.path : s.table ? `table ${s.table}` : "query"}</td>
              </tr>
            ))}
            {Object.values(data.pushSources ?? {}).map((p) => (
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
            {Object.values(data.services).map((s) => (
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
  data: RegistryData;
  view: string;
  freshness: ViewFreshness | null;
  runs: RunRecord[];
  profile: FeatureProfile[] | null;
  drift: FeatureDrift[];
};

export const ViewPage: FC<ViewPageData> = ({ data, view, freshness, runs, profile, drift }) => {
  const entry = data.views[view]!;
  const def = entry.definition;
  const push = data.pushSources?.[def.source];
  const sources = push ? [`${push.batchSource} (batch)`, `${push.name} (push)`] : [def.source];
  const services = Object.values(data.services)
    .filter((s) => s.features.some((r) => r.view === view))
    .map((s) => s.name);
  const lastValidation = runs.find((r) => r.kind === "materialize" && r.validation)?.validation ?? null;
  const schedule = scheduleOf(def.schedule);
  return (
    <Layout title={view}>
      <h1>
        Feature view {view} <span class="mono muted">@{entry.current}</span>
      </h1>
      <p class="muted">
        {def.description || "No description."} · Entity <b>{def.entity}</b>; ttl {def.ttl === null ? "none" : `${def.ttl / 3_600_000} h`}; {entry.versions.length} version
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
                  : `${f.function}(${f.of ?? "*"}, ${f.window === null ? "lifetime" : `${f.window / 3_600_000} h`}${f.hop ? `, hop ${f.hop / 60_000} min` : ""})`}
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
                <td>{d.drifting ? <span class="bad">drifting</span> : <span class="ok">ok</span>}</td>
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
                <b>{p.feature}</b>{" "}
                <span class="muted">
                  {p.count - p.nulls} values, {p.nulls} null{p.kind === "numeric" && p.mean !== null ? `, mean ${p.mean.toFixed(3)}` : ""}
                </span>
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
          <td class="mono">{r.id}</td>
          <td>{r.kind}</td>
          <td>
            <Status status={r.status} />
          </td>
          <td class="mono">{r.views.map((v) => `${v.view}@${v.version}`).join(" ")}</td>
          <td>
            {r.rows.in ?? "—"} → {r.rows.out ?? "—"}
          </td>
          <td>{(r.durationMs / 1000).toFixed(2)}</td>
          <td>{when(r.startedAt)}</td>
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

export const LookupPage: FC<{ data: RegistryData; service: string | undefined }> = ({ data, service }) => {
  const services = Object.keys(data.services).sort();
  const chosen = service && data.services[service] ? service : services[0];
  const keys = chosen
    ? [...new Set(data.services[chosen]!.features.flatMap((r) => (data.entities[data.views[r.view]?.definition.entity ?? ""]?.joinKeys ?? []).map((k) => k.name)))]
    : [];
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
  const out = document.getElementById("result");
  const res = await fetch("/v1/features/online", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ service: document.getElementById("service").value, entities }) });
  const body = await res.json();
  if (!res.ok) { out.className = "bad"; out.textContent = res.status + " " + body.code + ": " + body.message; return; }
  const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const head = Object.keys(body.results[0].entity).concat(body.features);
  const rows = body.results.map((r) => Object.values(r.entity).concat(body.features.map((f) => r.statuses[f] === "present" ? (typeof r.values[f] === "number" ? Number(r.values[f].toFixed(4)) : r.values[f]) : r.statuses[f])));
  out.className = "";
  out.innerHTML = "<p class=muted>as of " + esc(body.at) + "</p><table id=result-table><tr>" + head.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>" + rows.map((r) => "<tr>" + r.map((v) => "<td>" + esc(v) + "</td>").join("") + "</tr>").join("") + "</table>";
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
