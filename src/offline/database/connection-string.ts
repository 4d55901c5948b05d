/**
 * A database source's connection as written in its definition, with `${VAR}` taken from
 * the environment when it is used, so secrets stay out of feature files and the registry.
 */
import type { DatabaseSourceDef } from "../../definitions/types.ts";
import { StorageError } from "../../errors.ts";

export function connectionString(source: DatabaseSourceDef, env: Record<string, string | undefined> = process.env): string {
  const url = source.connection.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new StorageError(`source "${source.name}": its connection uses \${${name}}, which is not set in the environment`);
    return value;
  });
  if (!/^(postgres(ql)?:\/\/|sqlite:)/.test(url))
    throw new StorageError(`source "${source.name}": its connection must start with "postgres://" or "sqlite:" once variables are filled in`);
  return url;
}

export const isSqlite = (source: DatabaseSourceDef): boolean => connectionString(source).startsWith("sqlite:");

/** The connection with any password masked, for messages. */
export const redactedConnection = (source: DatabaseSourceDef): string => source.connection.replace(/:\/\/([^:/@]+):[^@]*@/, "://$1:***@");
