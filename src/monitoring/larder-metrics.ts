/** The metrics Larder exports: HTTP, lookups, pushes, runs; freshness and drift gauges are added by their owners. */
import { Counter, Gauge, Histogram, MetricsRegistry } from "./metrics.ts";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RUN_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 7200];

/** A request path as its route template, so series stay few. */
export function routeOf(path: string): string {
  if (path.startsWith("/v1/registry")) return "/v1/registry";
  if (path.startsWith("/v1/runs")) return "/v1/runs";
  if (path === "/" || path.startsWith("/ui")) return "/ui";
  if (path.startsWith("/v1/score/")) return "/v1/score";
  const known = [
    "/v1/features/online",
    "/v1/push",
    "/push",
    "/v1/materialize",
    "/materialize",
    "/materialize-incremental",
    "/get-online-features",
    "/openapi.json",
    "/v1/schedules",
    "/v1/freshness",
    "/v1/drift",
    "/metrics",
    "/health",
  ];
  return known.includes(path) ? path : "other";
}

/** The source label of refused pushes naming no push source (names are lower_snake_case, so never a real one's). */
export const UNKNOWN_PUSH_SOURCE = "(unknown)";

const PRESENT = { status: "present" },
  MISSING = { status: "missing" },
  EXPIRED = { status: "expired" };

export class LarderMetrics {
  readonly registry = new MetricsRegistry();
  readonly requests = this.registry.add(new Counter("larder_http_requests_total", "HTTP requests answered, by route, method and status."));
  readonly latency = this.registry.add(new Histogram("larder_http_request_duration_seconds", "Time to answer an HTTP request, by route.", LATENCY_BUCKETS));
  readonly lookups = this.registry.add(new Counter("larder_lookups_total", "Online lookups answered."));
  readonly entities = this.registry.add(new Counter("larder_lookup_entities_total", "Entities served by online lookups."));
  readonly values = this.registry.add(new Counter("larder_feature_values_total", "Feature values served, by status (present, missing, expired)."));
  readonly pushEvents = this.registry.add(new Counter("larder_push_events_total", "Pushed events, by push source and outcome (applied, duplicate, refused)."));
  readonly runs = this.registry.add(new Counter("larder_runs_total", "Runs recorded, by kind and status."));
  readonly runSeconds = this.registry.add(new Histogram("larder_run_duration_seconds", "Duration of runs, by kind.", RUN_BUCKETS));

  // The same labels objects for the same route, method and status: their rendered text is
  // then remembered (metrics.ts), so counting a request builds no string.
  readonly #requestLabels = new Map<string, { counter: Record<string, string>; route: Record<string, string> }>();

  request(method: string, path: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${path}`;
    let labels = this.#requestLabels.get(key);
    if (!labels) {
      const route = routeOf(path);
      labels = { counter: { route, method, status: String(status) }, route: { route } };
      // Unknown paths all share "other": do not let them grow the cache without bound.
      if (route !== "other" && this.#requestLabels.size < 1000) this.#requestLabels.set(key, labels);
    }
    this.requests.inc(labels.counter);
    this.latency.observe(labels.route, seconds);
  }

  readonly #pushLabels = new Map<string, Record<string, string>>();

  /** Pushed events of a push source by outcome; the labels objects kept, as for requests. */
  pushed(source: string, outcome: "applied" | "duplicate" | "refused", events: number): void {
    const key = `${outcome} ${source}`;
    let labels = this.#pushLabels.get(key);
    if (!labels) {
      labels = { source, outcome };
      this.#pushLabels.set(key, labels);
    }
    this.pushEvents.inc(labels, events);
  }

  gauge(name: string, help: string, read: ConstructorParameters<typeof Gauge>[2]): void {
    this.registry.add(new Gauge(name, help, read));
  }

  /** A lookup answered: its entities, and its values by status. */
  countLookup(results: readonly { statuses: Record<string, string> }[]): void {
    this.lookups.inc();
    this.entities.inc({}, results.length);
    let present = 0,
      missing = 0,
      expired = 0;
    for (const r of results) {
      for (const k in r.statuses) {
        const s = r.statuses[k];
        if (s === "present") present++;
        else if (s === "missing") missing++;
        else expired++;
      }
    }
    if (present) this.values.inc(PRESENT, present);
    if (missing) this.values.inc(MISSING, missing);
    if (expired) this.values.inc(EXPIRED, expired);
  }
}
