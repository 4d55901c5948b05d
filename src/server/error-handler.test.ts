import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LogEvent } from "../log.ts";
import { createApp } from "./app.ts";
import { startServer } from "./start-server.ts";
import { tempRepo } from "../../test/helpers/temp-repo.ts";

const repo = tempRepo({
  "features/a.ts": `import { entity } from "larder"; export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });`,
});
afterAll(() => repo.cleanup());

test("server errors answer 500 JSON without internals and reach the injected logger", async () => {
  await repo.larder.apply();
  const events: LogEvent[] = [];
  const app = createApp(repo.larder, (e) => events.push(e));
  expect((await app.request("/v1/registry")).status).toBe(200);
  writeFileSync(join(repo.dir, "data", "registry.json"), "{ not json");
  await Bun.sleep(300); // the registry file is re-checked at most every 250 ms
  const res = await app.request("/v1/registry");
  expect(res.status).toBe(500);
  const body = (await res.json()) as { code: string; message: string };
  expect(body.code).toBe("damaged_data");
  // Paths inside the repo are given relative to it.
  expect(body.message).toStartWith("registry data/registry.json is damaged: it is not valid JSON");
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ level: "error", event: "http.server_error", method: "GET", path: "/v1/registry" });
});

test("the lookup route answers and logs server errors itself, through the app and as a Bun route", async () => {
  writeFileSync(join(repo.dir, "data", "registry.json"), "{ not json");
  await Bun.sleep(300);
  const events: LogEvent[] = [];
  const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ service: "s", entities: { user_id: [1] } }) };
  const viaApp = await createApp(repo.larder, (e) => events.push(e)).request("/v1/features/online", init);
  const server = startServer(repo.larder, (e) => events.push(e));
  try {
    const viaRoute = await fetch(`http://${server.hostname}:${server.port}/v1/features/online`, init);
    for (const res of [viaApp, viaRoute]) {
      expect(res.status).toBe(500);
      expect(((await res.json()) as { code: string }).code).toBe("damaged_data");
    }
  } finally {
    await server.stop();
  }
  const http = events.filter((e) => e.event === "http.server_error");
  expect(http.map((e) => [e.event, (e as { path?: string }).path])).toEqual([
    ["http.server_error", "/v1/features/online"],
    ["http.server_error", "/v1/features/online"],
  ]);
  // The scheduler could not read the registry either, and said so once.
  expect(events.filter((e) => e.event === "schedule.failed")).toHaveLength(1);
});
