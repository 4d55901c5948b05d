/** @jsxImportSource hono/jsx */
/** The HTTP API for people: every route of GET /openapi.json with its body's schema. */
import type { FC } from "hono/jsx";
import { Layout } from "./layout.tsx";

type Operation = { summary: string; description?: string; requestBody?: { content: Record<string, { schema: unknown }> } };
/** What the page reads of the OpenAPI document. */
type ApiDocument = { info: { version: string }; paths: Record<string, Record<string, Operation>> };

export const ApiPage: FC<{ doc: ApiDocument }> = ({ doc }) => (
  <Layout title="API">
    <h1>HTTP API</h1>
    <p class="muted">
      Larder {doc.info.version}. The same as <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1), from which clients can be generated.
    </p>
    {Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => (
        <section class="card">
          <h2>
            <span class="method">{method.toUpperCase()}</span> <span class="mono">{path}</span>
          </h2>
          <p>
            {op.summary}
            {op.description ? <span class="muted"> {op.description}</span> : null}
          </p>
          {op.requestBody ? (
            <details>
              <summary>request body</summary>
              <pre>{JSON.stringify(op.requestBody.content["application/json"]?.schema, null, 2)}</pre>
            </details>
          ) : null}
        </section>
      )),
    )}
  </Layout>
);

export const NotFoundPage: FC<{ message: string }> = ({ message }) => (
  <Layout title="Not found">
    <h1>Not found</h1>
    <section class="card">
      <p>{message}</p>
      <p>
        <a href="/">Back to the catalog</a>
      </p>
    </section>
  </Layout>
);
