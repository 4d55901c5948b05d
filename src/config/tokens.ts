/**
 * Access tokens as configured (LARDER_TOKENS or LARDER_TOKENS_FILE): `scope=token` entries
 * separated by commas or newlines. Only their SHA-256 digests are kept.
 */
import { createHash } from "node:crypto";
import { BadRequestError } from "../errors.ts";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export const tokenDigest = (token: string) => createHash("sha256").update(token).digest();

/**
 * Tokens as configured: `scope=token` entries separated by commas or newlines, e.g.
 * `read=r-3c…,write=w-91…,admin=a-5d…` (LARDER_TOKENS, or a file: LARDER_TOKENS_FILE).
 */
export function parseTokens(text: string): { scope: Scope; digest: Buffer }[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const eq = entry.indexOf("=");
      const scope = entry.slice(0, eq) as Scope;
      const token = entry.slice(eq + 1);
      if (eq < 0 || !SCOPES.includes(scope)) throw new BadRequestError(`token ${i + 1}: write it as scope=token with scope one of ${SCOPES.join(", ")}`, "invalid_config");
      if (token.length < 16) throw new BadRequestError(`token ${i + 1} (${scope}): at least 16 characters, please`, "invalid_config");
      return { scope, digest: tokenDigest(token) };
    });
}
