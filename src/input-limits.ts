/**
 * The documented limits on what requests and streams carry (docs/reference/limits.md), set
 * with the backends in mind: an LMDB key holds at most 1,978 bytes, and every pushed string
 * is rewritten into its entity's record on every push.
 */
export const LIMITS = {
  /** An event id (a push source's eventIdField): it is kept as a key of the store. */
  eventIdChars: 256,
  /** One string join-key value. */
  keyPartChars: 256,
  /** An entity's whole key, its join-key values encoded (online/entity-key.ts). */
  entityKeyBytes: 1_024,
  /** A pushed string value. */
  stringValueChars: 65_536,
} as const;

/** Whether `s` is valid Unicode: no lone UTF-16 surrogate (JSON can carry one as "\ud800"). */
export const isValidUnicode = (s: string): boolean => s.isWellFormed();
