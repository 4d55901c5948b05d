import { expect, test } from "bun:test";
import { Counter, Histogram, MetricsRegistry, perScrape } from "./metrics.ts";
import { ServedSample } from "./served-sample.ts";

test("perScrape: callers during one computation share it; the next scrape computes anew", async () => {
  let calls = 0;
  const shared = perScrape(async () => {
    calls++;
    await Bun.sleep(5);
    return calls;
  });
  expect(await Promise.all([shared(), shared(), shared()])).toEqual([1, 1, 1]);
  expect(await shared()).toBe(2);
});

test("drain and absorb: a worker's counts since its last drain add up in the primary's /metrics", async () => {
  const make = () => {
    const registry = new MetricsRegistry();
    return { registry, requests: registry.add(new Counter("requests_total", "h")), latency: registry.add(new Histogram("latency_seconds", "h", [0.001, 0.01])) };
  };
  const primary = make(),
    worker = make();
  primary.requests.inc({ route: "/a" }, 2);
  primary.latency.observe({ route: "/a" }, 0.0005);
  worker.requests.inc({ route: "/a" }, 3);
  worker.requests.inc({ route: "/b" });
  worker.latency.observe({ route: "/a" }, 0.005);
  worker.latency.observe({ route: "/b" }, 0.5);
  // Through JSON, as over the IPC channel.
  primary.registry.absorb(JSON.parse(JSON.stringify(worker.registry.drain())));
  expect(worker.registry.drain()).toEqual({ requests_total: [], latency_seconds: [] });
  worker.requests.inc({ route: "/a" });
  primary.registry.absorb(worker.registry.drain());
  expect(await primary.registry.render()).toBe(
    `${[
      "# HELP requests_total h",
      "# TYPE requests_total counter",
      'requests_total{route="/a"} 6',
      'requests_total{route="/b"} 1',
      "# HELP latency_seconds h",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{route="/a",le="0.001"} 1',
      'latency_seconds_bucket{route="/a",le="0.01"} 2',
      'latency_seconds_bucket{route="/a",le="+Inf"} 2',
      'latency_seconds_sum{route="/a"} 0.0055',
      'latency_seconds_count{route="/a"} 2',
      'latency_seconds_bucket{route="/b",le="0.001"} 0',
      'latency_seconds_bucket{route="/b",le="0.01"} 0',
      'latency_seconds_bucket{route="/b",le="+Inf"} 1',
      'latency_seconds_sum{route="/b"} 0.5',
      'latency_seconds_count{route="/b"} 1',
    ].join("\n")}\n`,
  );
});

test("served samples: what a worker sampled is kept by the primary as if sampled there", () => {
  const refs = [
    { view: "v", feature: "x" },
    { view: "v", feature: "label" },
  ];
  const primary = new ServedSample(),
    worker = new ServedSample();
  primary.offer(refs, ["x", "label"], [{ values: { x: 1, label: "a" } }]);
  // One lookup in 8 is sampled: the first, then the ninth.
  for (let i = 0; i < 9; i++) worker.offer(refs, ["x", "label"], [{ values: { x: 10 + i, label: null } }]);
  primary.absorb(JSON.parse(JSON.stringify(worker.drain())));
  expect(primary.values("v", "x")).toEqual([1, 10, 18]);
  expect(primary.values("v", "label")).toEqual(["a"]);
  expect(worker.drain()).toEqual({});
  expect(worker.values("v", "x")).toEqual([]);
});
