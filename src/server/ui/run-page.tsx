/** @jsxImportSource hono/jsx */
/** One run: what it read, checked and wrote, or why it failed, with its record as JSON. */
import type { FC } from "hono/jsx";
import type { RunRecord } from "../../registry/runs.ts";
import { runNote } from "../../registry/run-note.ts";
import { Layout, when } from "./layout.tsx";

export const RunPage: FC<{ run: RunRecord }> = ({ run }) => (
  <Layout title={`Run ${run.id}`}>
    <h1>
      Run <span class="mono">{run.id}</span>
    </h1>
    <section class="card">
      <table>
        <tr>
          <td>kind</td>
          <td>{run.kind}</td>
        </tr>
        <tr>
          <td>status</td>
          <td class={run.status === "succeeded" ? "ok" : "bad"}>{run.status}</td>
        </tr>
        <tr>
          <td>views</td>
          <td class="mono">
            {run.views.map((v) => (
              <>
                <a href={`/ui/views/${encodeURIComponent(v.view)}`}>{v.view}</a>@{v.version}{" "}
              </>
            ))}
          </td>
        </tr>
        <tr>
          <td>started</td>
          <td>
            {when(run.startedAt)} by {run.startedBy.via}
          </td>
        </tr>
        <tr>
          <td>took</td>
          <td>{(run.durationMs / 1000).toFixed(2)} s</td>
        </tr>
        <tr>
          <td>rows in → out</td>
          <td>
            {run.rows.in ?? "—"} → {run.rows.out ?? "—"}
          </td>
        </tr>
        <tr>
          <td>note</td>
          <td>{runNote(run)}</td>
        </tr>
      </table>
    </section>
    {run.sources.length ? (
      <section class="card">
        <h2>Sources read</h2>
        <table>
          <tr>
            <th>source</th>
            <th>file</th>
            <th>size</th>
            <th>sha256</th>
          </tr>
          {run.sources.flatMap((s) =>
            s.files.map((f) => (
              <tr>
                <td>{s.source}</td>
                <td class="mono">{f.path}</td>
                <td>{f.size}</td>
                <td class="mono muted">{f.sha256 ?? f.etag ?? "—"}</td>
              </tr>
            )),
          )}
        </table>
      </section>
    ) : null}
    <section class="card">
      <h2>Record</h2>
      <pre>{JSON.stringify(run, null, 2)}</pre>
    </section>
  </Layout>
);
