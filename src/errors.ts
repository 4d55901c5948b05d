/**
 * One error base with a stable `code`, an HTTP `status` and a CLI exit code.
 * The server maps these in one place (server/error-handler.ts) and the CLI in
 * another (cli/run.ts); messages name the object at fault so a user can act.
 */
export type ExitCode = 1 | 2 | 3;
/** 2: the command line was wrong; 3: definitions or data failed validation; 1: runtime error. */
export const EXIT = { runtime: 1, usage: 2, validation: 3 } as const satisfies Record<string, ExitCode>;

export class LarderError extends Error {
  readonly code: string = "internal_error";
  readonly status: number = 500;
  readonly exitCode: ExitCode = EXIT.runtime;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The base of an error kind that only fixes its code, HTTP status and exit code:
 * `class NotFoundError extends errorKind("not_found", 404, EXIT.usage) {}`.
 */
function errorKind(code: string, status: number, exitCode: ExitCode = EXIT.runtime) {
  return class extends LarderError {
    override readonly code: string = code;
    override readonly status: number = status;
    override readonly exitCode: ExitCode = exitCode;
  };
}

/** A request or a command line that cannot be understood. */
export class BadRequestError extends LarderError {
  override readonly code: string;
  override readonly status = 400;
  override readonly exitCode = EXIT.usage;
  constructor(message: string, code = "bad_request") {
    super(message);
    this.code = code;
  }
}

export class UsageError extends errorKind("usage", 400, EXIT.usage) {}

/**
 * An online lookup at an instant the served records cannot answer exactly: before the
 * watermark, or before events already folded into an entity's record. `earliest`: the
 * first instant that can be answered.
 */
export class LookupTooEarlyError extends BadRequestError {
  constructor(
    message: string,
    code: string,
    readonly earliest: number,
  ) {
    super(message, code);
  }
}

export class NotFoundError extends errorKind("not_found", 404, EXIT.usage) {
  /** What is missing, by kind and name: lets the Feast routes answer with Feast's exception classes. */
  readonly missing?: { kind: MissingKind; name: string };
  constructor(message: string, missing?: { kind: MissingKind; name: string }) {
    super(message);
    this.missing = missing;
  }
}
export type MissingKind = "entity" | "data_source" | "feature_view" | "on_demand_view" | "feature_service" | "push_source";

export class PayloadTooLargeError extends errorKind("payload_too_large", 413, EXIT.usage) {}

/** One or more definitions in features/*.ts are invalid; nothing was applied. */
export class DefinitionError extends LarderError {
  override readonly code = "invalid_definition";
  override readonly status = 422;
  override readonly exitCode = EXIT.validation;
  constructor(readonly problems: readonly DefinitionProblem[]) {
    super(formatProblems(problems));
  }
}

export type DefinitionProblem = { file?: string; definition?: string; message: string };

function formatProblems(problems: readonly DefinitionProblem[]): string {
  const lines = problems.map((p) => {
    const where = [p.file, p.definition && `"${p.definition}"`].filter(Boolean).join(" ");
    return where ? `${where}: ${p.message}` : p.message;
  });
  return `${problems.length} problem${problems.length === 1 ? "" : "s"} in feature definitions:\n${lines.join("\n")}`;
}

/** A view, service or version that has not been applied/materialized yet. */
export class NotAppliedError extends errorKind("not_applied", 409) {}

/** The offline engine failed on data (unreadable source, bad label table, SQL failure). */
export class OfflineError extends errorKind("offline_error", 500) {}

/** The online store is unreachable or failed. */
export class OnlineStoreError extends errorKind("online_store_unavailable", 503) {}

/** Remote storage (S3, a source database) is unreachable, refused us, or lacks what was asked for. */
export class StorageError extends errorKind("storage_error", 502) {}

/** Data failed an `error` expectation: nothing was written (see validation/). */
export class ExpectationFailedError extends LarderError {
  override readonly code = "expectation_failed";
  override readonly status = 422;
  override readonly exitCode = EXIT.validation;
  constructor(
    message: string,
    readonly report: unknown,
  ) {
    super(message);
  }
}

/** The request conflicts with work in progress (a materialization already running). */
export class ConflictError extends errorKind("conflict", 409) {}

/** Another process or machine holds a view's materialization lease: its run is going on there. */
export class ViewBusyError extends ConflictError {
  override readonly code: string = "view_busy";
}

/**
 * A file or stored value Larder wrote and reads back (registry, run record, profile, model,
 * manifest, online-store metadata) is damaged: the message names it and the way out.
 */
export class DamagedDataError extends errorKind("damaged_data", 500) {}

/** A view's served pointer changed while a writer worked from it; nothing of that write was kept. */
export class PointerMovedError extends ConflictError {
  override readonly code: string = "pointer_moved";
}

/** No token, or one Larder does not know. */
export class UnauthorizedError extends errorKind("unauthorized", 401) {}

/** A known token without the scope this needs. */
export class ForbiddenError extends errorKind("forbidden", 403) {}

/** A `larder serve` worker cannot reach its primary process, or could not start (server/workers/). */
export class WorkerError extends errorKind("primary_unavailable", 503) {}

/** `larder serve` could not listen: the port is taken or the address is not this machine's. */
export class ListenError extends errorKind("listen_failed", 500) {}

/** An MLflow tracking server that cannot be reached or refused a call; `upstreamStatus`: its HTTP status. */
export class MlflowError extends errorKind("mlflow_error", 502) {
  constructor(
    message: string,
    readonly upstreamStatus?: number,
  ) {
    super(message);
  }
}

/** `larder serve --feast-ui` where Feast's web UI is neither embedded nor buildable. */
export class FeastUiUnavailableError extends errorKind("feast_ui_unavailable", 503) {}

/** Spark could not run a job (no PySpark or Java, the cluster unreachable, a failing expression). */
export class SparkJobError extends errorKind("spark_error", 500) {}

/** The job's data broke a rule (values not of their type): nothing was written. */
export class SparkDataError extends errorKind("invalid_data", 422, EXIT.validation) {}
