/**
 * Bearer tokens with scopes: `read` (lookups, registry, runs, schedules), `write` (pushes),
 * `admin` (materialize now); each includes the ones before it. With no token configured
 * everything is open, as on a laptop. Once any is, writes need one, and reads too unless
 * opened (LARDER_OPEN_READS=true). Tokens are compared in constant time (their SHA-256
 * digests, every configured token each time) and never logged or echoed.
 */
import { timingSafeEqual } from "node:crypto";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import { SCOPES, parseTokens, tokenDigest, type Scope } from "../config/tokens.ts";

export class Auth {
  constructor(
    readonly tokens: { scope: Scope; digest: Buffer }[],
    readonly openReads: boolean,
  ) {}

  get enabled(): boolean {
    return this.tokens.length > 0;
  }

  /** Throws 401/403 unless the request may do what needs `scope`. */
  check(req: Request, scope: Scope): void {
    if (!this.enabled || (scope === "read" && this.openReads)) return;
    const header = req.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    // The web UI signs in with a cookie; it is taken for reads only, so a page elsewhere
    // cannot make a signed-in browser push or materialize (no cross-site writes).
    const token = m?.[1] ?? (scope === "read" ? cookieToken(req) : undefined);
    if (!token) throw new UnauthorizedError(`this needs a token with scope "${scope}": send Authorization: Bearer <token>`);
    const given = tokenDigest(token);
    let granted = -1;
    // Every token compared, whatever matches: the time taken says nothing about which did.
    for (const t of this.tokens) if (timingSafeEqual(t.digest, given)) granted = Math.max(granted, SCOPES.indexOf(t.scope));
    if (granted < 0) throw new UnauthorizedError("unknown token");
    if (granted < SCOPES.indexOf(scope)) throw new ForbiddenError(`this token's scope is "${SCOPES[granted]}"; this needs "${scope}"`);
  }

  /** Throws 401/403 unless the request may use its route (scopeOf); open routes pass. */
  checkRoute(req: Request, method: string, path: string): void {
    const scope = scopeOf(method, path);
    if (scope) this.check(req, scope);
  }
}

/** The scope a route needs: writes and admin work by route, everything else reads. */
export function scopeOf(method: string, path: string): Scope | null {
  if (path === "/health" || path === "/openapi.json" || path === "/ui/login" || path === "/ui/style.css") return null;
  if (method === "POST" && (path === "/v1/push" || path === "/push" || path === "/write-to-online-store")) return "write";
  if (method === "POST" && (path === "/v1/materialize" || path === "/materialize" || path === "/materialize-incremental")) return "admin";
  return "read";
}

const built = new WeakMap<object, Auth>();

/** The server's Auth from its configuration (built once per configuration). */
export function authOf(config: { tokens: string; openReads: string }): Auth {
  let auth = built.get(config);
  if (!auth) built.set(config, (auth = new Auth(parseTokens(config.tokens), config.openReads === "true")));
  return auth;
}

export const TOKEN_COOKIE = "larder_token";

function cookieToken(req: Request): string | undefined {
  const cookie = req.headers.get("cookie");
  if (!cookie) return undefined;
  for (const part of cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join("="));
  }
  return undefined;
}
