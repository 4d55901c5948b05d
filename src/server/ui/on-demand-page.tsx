/** @jsxImportSource hono/jsx */
/** An on-demand feature view: the request data it takes, the views it reads, what it returns. */
import type { FC } from "hono/jsx";
import type { Registry } from "../../registry/registry.ts";
import { Layout } from "./layout.tsx";

export const OnDemandPage: FC<{ registry: Registry; name: string }> = ({ registry, name }) => {
  const o = registry.onDemandView(name)!;
  const services = registry.servicesReading(name).map((s) => s.name);
  const columns = (title: string, cols: typeof o.request) => (
    <section class="card">
      <h2>{title}</h2>
      <table>
        <tr>
          <th>name</th>
          <th>type</th>
          <th>nullable</th>
        </tr>
        {cols.map((c) => (
          <tr>
            <td>{c.name}</td>
            <td class="mono">{c.type}</td>
            <td>{c.nullable ? "yes" : "no"}</td>
          </tr>
        ))}
      </table>
    </section>
  );
  return (
    <Layout title={name}>
      <h1>
        On-demand feature view {name} <span class="mono muted">@{o.version}</span>
      </h1>
      <p class="muted">
        {o.description || "No description."} Computed at request time from the request data and the features of{" "}
        {o.inputs.length
          ? o.inputs.map((v) => (
              <>
                <a href={`/ui/views/${encodeURIComponent(v)}`}>{v}</a>{" "}
              </>
            ))
          : "no stored view"}
        ; used by {services.length ? services.join(", ") : "no service"}.
      </p>
      <div class="grid">
        {columns("Request data", o.request)}
        {columns("Features", o.output)}
      </div>
      <section class="card">
        <h2>Function</h2>
        <pre>{o.source}</pre>
      </section>
    </Layout>
  );
};
