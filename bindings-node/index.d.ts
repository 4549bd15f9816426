types/header.d.ts
/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/** A validated commission plan (SPEC §2.1). */
export declare class Plan {
  /**
   * Parses and validates a plan (a JSON string or an object). Throws the first problem;
   * its message counts the others, which `Plan.validate` lists.
   */
  static fromJson(plan: string | PlanDocument): Plan
  /** Every problem of a plan document at once, in document order; empty when it is valid. */
  static validate(plan: string | PlanDocument): Array<Problem>
  /** The plan id. */
  get id(): string
  /** The plan currency (ISO 4217). */
  get currency(): string
  /** The IANA time zone in which the plan cuts calendar periods. */
  get timezone(): string
}

/** The report of one evaluation (SPEC §11). */
export declare class Report {
  /** The canonical JSON (SPEC §11): the core's bytes, identical in every binding. */
  toJson(): string
  /**
   * The report as a plain object: `JSON.parse` of the canonical JSON, so amounts are
   * decimal strings.
   */
  toObject(): ReportDocument
  /** The plan id. */
  get plan(): string
  /** The instant the report is as of (RFC 3339, UTC). */
  get asOf(): string
  /** Number of ledger entries. */
  get entryCount(): number
  /** Identical events that were ignored. */
  get duplicatesIgnored(): number
  /** A partner's pending and available balance in each currency, as of the report. */
  balances(partner: string): Array<Balance>
}

/**
 * Not part of the API: panics inside the core so tests can check that the panic throws an
 * `Error` with code `Internal` and the process lives on.
 */
export declare function _debugPanic(message: string): void

/** Not part of the API: like `_debugPanic`, on the worker thread of `evaluateAsync`. */
export declare function _debugPanicAsync(message: string): Promise<unknown>

/** What a partner holds in one currency as of the report (paid entries excluded). */
export interface Balance {
  /** ISO 4217 code. */
  currency: string
  /** Within its hold, as a decimal string with the currency's digits. */
  pending: string
  /** Past its hold and not yet paid, as a decimal string with the currency's digits. */
  available: string
}

/**
 * Evaluates an input document `{plan, partners, events, fx, as_of}` (a JSON string or an
 * object) and returns its report. Throws an `Error` with `code`, `path` and `message`.
 */
export declare function evaluate(input: string | InputDocument): Report

/**
 * Like `evaluate`, but parses and evaluates on a worker thread of the libuv pool and
 * returns a promise; only turning an object input into JSON happens on the calling thread.
 */
export declare function evaluateAsync(input: string | InputDocument): Promise<unknown>

/** One problem of a document: the same three fields as a thrown error. */
export interface Problem {
  /** Stable error code, e.g. `"InvalidValue"`. */
  code: string
  /** Document path of the offending value, e.g. `"plan.rules[0].reward.percent"`. */
  path: string
  /** What was found and what was expected. */
  message: string
}
