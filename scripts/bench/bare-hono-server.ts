/**
 * The baseline for HTTP lookups: hono on Bun, parsing the same JSON body and answering JSON.
 * `bun bare-hono-server.ts [port]`; several on one port share it (SO_REUSEPORT), as
 * `larder serve --workers` does.
 */
import { Hono } from "hono";

const app = new Hono();
app.post("/v1/features/online", async (c) => {
  const body = (await c.req.json()) as { entities: { user_id: number[] } };
  return c.json({ results: body.entities.user_id.map((id) => ({ entity: { user_id: id }, values: { x: 1 } })) });
});
const server = Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2] ?? 0), reusePort: true, fetch: app.fetch });
console.log(`listening on http://127.0.0.1:${server.port}`);
