/**
 * `CapmClient` drives `capm serve --stdio`: it spawns the binary, handshakes with
 * `initialize`, writes one JSON-RPC request per line and matches the answers by id.
 * It turns error answers into typed errors and streams `$/progress` to each call. It
 * cancels with `$/cancelRequest` on an `AbortSignal` or a timeout. After a crash it restarts
 * the server and sends the unanswered requests again, in order. capm answers in the order it
 * was asked, so an error answer with `"id": null` (a line it could not read) belongs to the
 * oldest request written and not answered.
 */

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

import {
  CapmCancelledError,
  CapmError,
  CapmIncompatibleError,
  CapmProtocolError,
  CapmRequestError,
  CapmRpcError,
  CapmServerExitedError,
  CapmTimeoutError,
  fromRpcError,
  isRpcError,
} from "./errors.js";
import { encode, hasLoneSurrogate, LineDecoder } from "./framing.js";
import type * as G from "./generated/index.js";
import { ProgressStream } from "./progress.js";
import {
  ErrorCodes,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSIONS,
  type CallProgress,
  type ClientInfo,
  type OutgoingMessage,
} from "./protocol.js";

/** How long a request may wait for its answer unless told otherwise: 5 minutes. */
export const DEFAULT_TIMEOUT_MS = 300_000;
/** How long `close()` waits for the server to exit before cancelling what still runs. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;
/** How long `close()` then waits for the cancelled requests' answers before killing capm. */
export const CLOSE_CANCEL_GRACE_MS = 3_000;
/** How long a timed-out request waits for the answer to its cancellation: 10 s. */
export const DEFAULT_CANCEL_GRACE_MS = 10_000;
/** How long capm may take to start and answer `initialize`: 60 s. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

export interface CapmClientOptions {
  /** The capm binary: default `$CAPM_BIN`, else `capm` on the PATH. */
  command?: string;
  /** Its arguments: default `["serve", "--stdio"]`. */
  args?: string[];
  /** Its working directory (where `initialize` looks for a project). */
  cwd?: string;
  /** Its whole environment: default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Every request's timeout in ms unless the call says otherwise; 0 for none. */
  timeoutMs?: number;
  /** How long a timed-out request waits for capm to confirm its cancellation. */
  cancelGraceMs?: number;
  /** How long capm may take to start and answer `initialize` (not `timeoutMs`). */
  startTimeoutMs?: number;
  /** How long `close()` waits before cancelling what still runs, and then killing capm. */
  closeGraceMs?: number;
  /** Who the client is, told to the server in `initialize`. */
  client?: ClientInfo;
  /** Each line the server writes on stderr (`waiting for lock`, recovery, …). */
  onStderr?: (line: string) => void;
}

export interface CallOptions {
  /** This request's timeout in ms (0 for none); on expiry it is cancelled. */
  timeoutMs?: number;
  /** Aborting sends `$/cancelRequest`; the call settles by the server's answer. */
  signal?: AbortSignal;
  /** Each `$/progress` notification of `plan` and `apply`, as it arrives. */
  onProgress?: (event: CallProgress) => void;
}

/** A request in flight: its answer, and its `$/progress` notifications until then. */
export interface Call<T> {
  readonly id: number;
  readonly result: Promise<T>;
  readonly progress: AsyncIterable<CallProgress>;
}

/** `plan` params: what to do to which project (the client sets `progress_token`). */
export type PlanParams = Omit<G.RpcParamsPlan, "fingerprint" | "progress_token">;
/** `apply` params: the `plan` params and the fingerprint of the plan the user approved. */
export type ApplyParams = PlanParams & { fingerprint: string };

/** Every method: its params and its result. */
export interface Methods {
  initialize: { params: G.RpcParamsInitialize; result: G.Initialize };
  validate: { params: G.RpcParamsValidate; result: G.Diagnostics };
  plan: { params: PlanParams; result: G.Plan };
  apply: { params: ApplyParams; result: G.Apply };
  status: { params: G.RpcParamsStatus; result: G.Doctor };
  doctor: { params: G.RpcParamsDoctor; result: G.Doctor };
  list: { params: G.RpcParamsList; result: G.List };
  outdated: { params: G.RpcParamsOutdated; result: G.Outdated };
  info: { params: G.RpcParamsInfo; result: G.Info };
  search: { params: G.RpcParamsSearch; result: G.Search };
  explain: { params: G.RpcParamsExplain; result: G.Explain };
  shutdown: { params: undefined; result: null };
}

/** The methods that take a `progress_token`. */
const WITH_PROGRESS = new Set(["plan", "apply"]);

/** A request sent, or waiting to be. */
interface Pending {
  readonly id: number;
  readonly method: string;
  readonly line: string;
  /** `initialize` as the client's own handshake: never sent again after a crash. */
  readonly handshake: boolean;
  readonly progress: ProgressStream;
  readonly onProgress: ((event: CallProgress) => void) | undefined;
  written: boolean;
  aborted: boolean;
  /** Set when its timeout expired: it waits for the answer to its cancellation. */
  timedOut: number | undefined;
  /** Its timeout, then its grace period after the cancellation. */
  timer: NodeJS.Timeout | undefined;
  deaths: number;
  finish: (error: Error | undefined, value?: unknown) => void;
}

export class CapmClient {
  /** What the server said in `initialize`, once it did. */
  server: G.Initialize | undefined;
  private readonly options: CapmClientOptions;
  private child: ChildProcessWithoutNullStreams | undefined;
  private spawnError: Error | undefined;
  private ready = false;
  /** Whether a server ever completed the handshake: starting another is a restart. */
  private started = false;
  private restartCount = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The ids written to the running server and not answered yet, oldest first. */
  private unanswered: number[] = [];
  private handshake: Promise<G.Initialize> | undefined;
  /** Set once the client can send no more: closed, or the server is incompatible. */
  private fatal: CapmError | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: CapmClientOptions = {}) {
    this.options = options;
  }

  /** A client with its server started and its protocol version checked. */
  static async start(options: CapmClientOptions = {}): Promise<CapmClient> {
    const client = new CapmClient(options);
    await client.start();
    return client;
  }

  /** Starts the server (if it is not running) and resolves with its `initialize` answer. */
  start(): Promise<G.Initialize> {
    if (this.fatal) return Promise.reject(this.fatal);
    this.ensureProcess();
    return this.handshake ?? Promise.reject(new CapmError("capm was not started"));
  }

  /** The server's process id, while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the server was started again after it exited unasked. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Sends `method`; its answer and its progress. Starts the server if needed. */
  call<M extends keyof Methods>(
    method: M,
    params: Methods[M]["params"],
    options: CallOptions = {},
  ): Call<Methods[M]["result"]> {
    const call = this.request<Methods[M]["result"]>(method, params, options, false);
    // capm exits after answering `shutdown`: the client is closed, not restarted.
    if (method === "shutdown")
      this.fatal ??= new CapmServerExitedError(
        "capm was shut down (`shutdown`): the client is closed",
      );
    return call;
  }

  initialize(params: G.RpcParamsInitialize = {}, options?: CallOptions): Promise<G.Initialize> {
    return this.call("initialize", params, options).result;
  }
  validate(params: G.RpcParamsValidate, options?: CallOptions): Promise<G.Diagnostics> {
    return this.call("validate", params, options).result;
  }
  plan(params: PlanParams, options?: CallOptions): Promise<G.Plan> {
    return this.call("plan", params, options).result;
  }
  apply(params: ApplyParams, options?: CallOptions): Promise<G.Apply> {
    return this.call("apply", params, options).result;
  }
  status(params: G.RpcParamsStatus, options?: CallOptions): Promise<G.Doctor> {
    return this.call("status", params, options).result;
  }
  doctor(params: G.RpcParamsDoctor, options?: CallOptions): Promise<G.Doctor> {
    return this.call("doctor", params, options).result;
  }
  list(params: G.RpcParamsList, options?: CallOptions): Promise<G.List> {
    return this.call("list", params, options).result;
  }
  outdated(params: G.RpcParamsOutdated, options?: CallOptions): Promise<G.Outdated> {
    return this.call("outdated", params, options).result;
  }
  info(params: G.RpcParamsInfo, options?: CallOptions): Promise<G.Info> {
    return this.call("info", params, options).result;
  }
  search(params: G.RpcParamsSearch, options?: CallOptions): Promise<G.Search> {
    return this.call("search", params, options).result;
  }
  explain(params: G.RpcParamsExplain, options?: CallOptions): Promise<G.Explain> {
    return this.call("explain", params, options).result;
  }

  /**
   * Sends `shutdown` (after the requests already sent), waits for the server to exit, and
   * after `graceMs` cancels the requests still running (`$/cancelRequest`, so that an `apply`
   * rolls back), waits a little more for their answers, then kills it. Requests still
   * unanswered then are rejected.
   */
  close(graceMs = this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const child = this.child;
    const closed = new CapmServerExitedError("the client was closed");
    if (child === undefined) return this.stop(closed);
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const disarm = this.cancelThenKill(child, graceMs);
    const bye = this.request("shutdown", undefined, { timeoutMs: 0 }, false).result;
    this.fatal ??= closed;
    await bye.catch(() => undefined);
    child.stdin.end();
    await exited;
    disarm();
  }

  /** After `graceMs`, cancels every request written; `CLOSE_CANCEL_GRACE_MS` later, kills. */
  private cancelThenKill(child: ChildProcessWithoutNullStreams, graceMs: number): () => void {
    let kill: NodeJS.Timeout | undefined;
    const cancel = setTimeout(() => {
      for (const p of this.pending.values())
        if (p.written && p.method !== "shutdown") this.notify("$/cancelRequest", { id: p.id });
      kill = setTimeout(() => child.kill("SIGKILL"), CLOSE_CANCEL_GRACE_MS);
    }, graceMs);
    return () => {
      clearTimeout(cancel);
      clearTimeout(kill);
    };
  }

  private request<T>(
    method: string,
    params: unknown,
    options: CallOptions,
    handshake: boolean,
  ): Call<T> {
    const id = this.nextId++;
    const progress = new ProgressStream();
    let settle: (error: Error | undefined, value?: unknown) => void = () => undefined;
    const result = new Promise<T>((resolve, reject) => {
      settle = (error, value) => (error ? reject(error) : resolve(value as T));
    });
    const message: OutgoingMessage = { jsonrpc: "2.0", id, method };
    if (params !== undefined) message.params = withToken(method, params, id);
    const p: Pending = {
      id,
      method,
      handshake,
      progress,
      onProgress: options.onProgress,
      line: encode(message),
      written: false,
      aborted: false,
      timedOut: undefined,
      timer: undefined,
      deaths: 0,
      finish: () => undefined,
    };
    p.finish = this.watch(p, options, settle);
    const refused = this.fatal ?? this.unsendable(p, params);
    if (refused) p.finish(refused);
    else if (options.signal?.aborted)
      p.finish(new CapmCancelledError("cancelled before it was sent"));
    else this.enqueue(p);
    return { id, result, progress };
  }

  /** Why capm could not read `p`, if it could not: it is too long, or not UTF-8. */
  private unsendable(p: Pending, params: unknown): CapmRequestError | undefined {
    const max = this.server?.max_message_bytes ?? MAX_MESSAGE_BYTES;
    const bytes = Buffer.byteLength(p.line) - 1;
    if (bytes > max)
      return new CapmRequestError(
        `\`${p.method}\` was not sent: it is ${bytes} bytes, and capm reads at most ${max}`,
        "too-large",
      );
    if (hasLoneSurrogate(params))
      return new CapmRequestError(
        `\`${p.method}\` was not sent: a string in its params holds half of a surrogate pair, which capm cannot read`,
        "lone-surrogate",
      );
    return undefined;
  }

  /** Arms `p`'s timeout and abort; returns what settles it once (and disarms them). */
  private watch(
    p: Pending,
    options: CallOptions,
    settle: (e: Error | undefined, v?: unknown) => void,
  ) {
    const ms = p.handshake
      ? (this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS)
      : (options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (ms > 0 && Number.isFinite(ms)) p.timer = setTimeout(() => this.expired(p, ms), ms);
    const onAbort = () => this.abort(p);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let done = false;
    return (error: Error | undefined, value?: unknown) => {
      if (done) return;
      done = true;
      this.pending.delete(p.id);
      clearTimeout(p.timer);
      options.signal?.removeEventListener("abort", onAbort);
      p.progress.end();
      settle(error, value);
    };
  }

  private enqueue(p: Pending): void {
    this.pending.set(p.id, p);
    if (p.handshake) return this.write(p);
    this.ensureProcess();
    if (this.ready) this.write(p);
  }

  private write(p: Pending): void {
    p.written = true;
    this.unanswered.push(p.id);
    this.child?.stdin.write(p.line);
  }

  /** Writes, in order, every request waiting for the server to be ready. */
  private flush(): void {
    for (const p of this.pending.values()) if (!p.written && !p.handshake) this.write(p);
  }

  private notify(method: string, params: unknown): void {
    this.child?.stdin.write(encode({ jsonrpc: "2.0", method, params }));
  }

  /**
   * `p` timed out. Not sent yet, or the handshake: it is dropped. Sent: capm is asked to
   * cancel it, and its answer settles it (`cancelGraceMs` at most).
   */
  private expired(p: Pending, ms: number): void {
    if (p.handshake)
      return p.finish(new CapmTimeoutError(p.method, ms, "cancelled", "capm was stopped"));
    if (!p.written) return p.finish(unsent(p, ms));
    p.timedOut = ms;
    this.notify("$/cancelRequest", { id: p.id });
    const grace = this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    p.timer = setTimeout(() => p.finish(new CapmTimeoutError(p.method, ms, "unknown")), grace);
  }

  private abort(p: Pending): void {
    if (!p.written) return p.finish(new CapmCancelledError("cancelled before it was sent"));
    p.aborted = true;
    this.notify("$/cancelRequest", { id: p.id });
  }

  private ensureProcess(): void {
    if (this.child !== undefined || this.fatal !== undefined) return;
    if (this.started) this.restartCount += 1;
    this.spawnProcess();
  }

  private spawnProcess(): void {
    const command = this.options.command ?? process.env["CAPM_BIN"] ?? "capm";
    const child = spawn(command, this.options.args ?? ["serve", "--stdio"], {
      cwd: this.options.cwd,
      env: this.options.env ?? process.env,
      stdio: "pipe",
    });
    this.child = child;
    this.ready = false;
    this.unanswered = [];
    this.spawnError = undefined;
    this.listen(child);
    this.handshake = this.shake(child);
    this.handshake.catch(() => undefined);
  }

  private listen(child: ChildProcessWithoutNullStreams): void {
    const out = new LineDecoder();
    child.stdout.on("data", (chunk: Buffer) => {
      if (child !== this.child) return;
      for (const line of out.push(chunk)) isolated((l: string) => this.onLine(l), line);
    });
    const err = new LineDecoder();
    child.stderr.on("data", (chunk: Buffer) => {
      for (const line of err.push(chunk)) isolated(this.options.onStderr, line);
    });
    // Writing to a server that just died fails with EPIPE; its exit is handled on `close`.
    child.stdin.on("error", () => undefined);
    child.on("error", (error) => (this.spawnError = error));
    child.on("close", (code, signal) => this.exited(child, code, signal));
  }

  /** `initialize`, and the check of the protocol version; then the waiting requests go. */
  private async shake(child: ChildProcessWithoutNullStreams): Promise<G.Initialize> {
    const params = this.options.client ? { client: this.options.client } : {};
    let result: G.Initialize;
    try {
      result = await this.request<G.Initialize>("initialize", params, {}, true).result;
    } catch (error) {
      throw this.notStarted(child, error as Error);
    }
    this.checkVersion(result.protocol_version);
    if (this.child === child) {
      this.server = result;
      this.ready = true;
      this.started = true;
      this.flush();
    }
    return result;
  }

  /**
   * The handshake failed with `error`. A server without `initialize` is incompatible; any
   * other failure (a timeout, …) stops this server and rejects the calls waiting for it, and
   * the next call starts capm again.
   */
  private notStarted(child: ChildProcessWithoutNullStreams, error: Error): Error {
    const codes: number[] = [ErrorCodes.invalidRequest, ErrorCodes.methodNotFound];
    if (error instanceof CapmRpcError && codes.includes(error.code))
      return this.incompatible(
        `capm does not speak protocol version 1 (initialize failed; it answered: ${error.message})`,
      );
    if (child !== this.child) return error; // it exited: `exited` dealt with its requests
    this.child = undefined;
    this.ready = false;
    const why = new CapmServerExitedError(`capm did not start: ${error.message}`);
    for (const p of [...this.pending.values()]) p.finish(why);
    child.stdin.end();
    child.kill();
    return error;
  }

  /** Refuses (for good) a server whose protocol version this client does not know. */
  private checkVersion(version: unknown): void {
    const known = PROTOCOL_VERSIONS.join(", ");
    if (typeof version !== "number" || !Number.isInteger(version))
      throw this.incompatible(
        `capm announced protocol version ${JSON.stringify(version)}, not an integer; this client knows ${known}`,
        version,
      );
    if (!PROTOCOL_VERSIONS.includes(version))
      throw this.incompatible(
        `capm speaks protocol version ${version}; this client knows ${known}`,
        version,
      );
  }

  private incompatible(message: string, version?: unknown): CapmIncompatibleError {
    const error = new CapmIncompatibleError(message, version);
    this.stop(error);
    return error;
  }

  /** Ends the client for good: every request rejects with `error`, the server is stopped. */
  private stop(error: CapmError): void {
    this.fatal ??= error;
    for (const p of [...this.pending.values()]) p.finish(this.fatal);
    this.child?.stdin.end();
    this.child?.kill();
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return this.report(`not JSON on capm's stdout: ${line.slice(0, 200)}`);
    }
    if (typeof message !== "object" || message === null) return;
    const m = message as { id?: unknown; method?: unknown; params?: unknown };
    if (m.method === "$/progress") return this.progressed(m.params);
    if (m.method !== undefined) return; // a notification this client does not know
    const p = this.answered(m);
    if (p !== undefined) this.settle(p, m, line);
  }

  /**
   * The pending request `m` answers. capm answers in order, so an error with `"id": null`
   * (for a line it could not read) answers the oldest request written and not answered.
   */
  private answered(m: { id?: unknown }): Pending | undefined {
    let id: number | undefined;
    if (m.id === null && "error" in m) id = this.unanswered.shift();
    else if (typeof m.id === "number") {
      id = m.id;
      const at = this.unanswered.indexOf(id);
      if (at !== -1) this.unanswered.splice(at, 1);
    } else this.report(`an answer without a usable id on capm's stdout: ${JSON.stringify(m.id)}`);
    return id === undefined ? undefined : this.pending.get(id);
  }

  /** Settles `p` by the response `m`: its result, its error, or a protocol error. */
  private settle(p: Pending, m: object, line: string): void {
    const { result, error } = m as { result?: unknown; error?: unknown };
    if ("result" in m && !("error" in m)) return p.finish(undefined, result);
    if (!("error" in m) || "result" in m || !isRpcError(error))
      return p.finish(
        new CapmProtocolError(
          `capm's answer to \`${p.method}\` is not a JSON-RPC response: ${line.slice(0, 200)}`,
        ),
      );
    const e = fromRpcError(error);
    if (p.timedOut !== undefined && e instanceof CapmCancelledError)
      return p.finish(new CapmTimeoutError(p.method, p.timedOut, "cancelled"));
    p.finish(e);
  }

  private progressed(params: unknown): void {
    if (typeof params !== "object" || params === null) return;
    const p = this.pending.get(Number((params as { token?: unknown }).token));
    if (p === undefined) return;
    const event = { ...(params as CallProgress), attempt: p.deaths + 1 };
    p.progress.push(event);
    isolated(p.onProgress, event);
  }

  /** Tells `onStderr` (if any) about what capm wrote that the client could not use. */
  private report(what: string): void {
    isolated(this.options.onStderr, `capm-client: ${what}`);
  }

  /** The server exited: requests it left unanswered go to a new one, up to twice. */
  private exited(
    child: ChildProcessWithoutNullStreams,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.ready = false;
    if (this.fatal) return this.stop(this.fatal);
    if (this.spawnError) {
      // Not started at all (no such binary, …): starting it again would fail the same way.
      const error = new CapmServerExitedError(
        `capm could not be started: ${this.spawnError.message}`,
      );
      for (const p of [...this.pending.values()]) p.finish(error);
      return;
    }
    const why = signal !== null ? `capm was killed by ${signal}` : `capm exited with code ${code}`;
    for (const p of [...this.pending.values()]) this.orphaned(p, why, code, signal);
    if (this.pending.size > 0) this.ensureProcess();
  }

  /** `p`'s server died: it is sent again, unless it was cancelled or saw a death before. */
  private orphaned(
    p: Pending,
    why: string,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    p.written = false;
    if (p.handshake) p.finish(new CapmServerExitedError(why, code, signal));
    else if (p.timedOut !== undefined)
      p.finish(new CapmTimeoutError(p.method, p.timedOut, "unknown", `then ${why}`));
    else if (p.aborted)
      p.finish(new CapmCancelledError(`cancelled: ${why} before answering; it was not sent again`));
    else if (++p.deaths >= 2)
      p.finish(
        new CapmServerExitedError(
          `${why}, for the second time while \`${p.method}\` was pending`,
          code,
          signal,
        ),
      );
  }
}

/**
 * The timeout of `p`, waiting to be written: never sent, nothing of it was applied; but one
 * waiting to be sent again after capm died may have been done by the capm that died.
 */
function unsent(p: Pending, ms: number): CapmTimeoutError {
  if (p.deaths === 0)
    return new CapmTimeoutError(
      p.method,
      ms,
      "cancelled",
      "it was not sent, so nothing of it was applied",
    );
  return new CapmTimeoutError(
    p.method,
    ms,
    "unknown",
    "it was waiting to be sent again after capm exited",
  );
}

/**
 * Calls the user's `callback`: if it throws, the error is thrown again on its own (an uncaught
 * exception the app sees), and the client carries on with the other lines of the chunk.
 */
function isolated<A>(callback: ((arg: A) => void) | undefined, arg: A): void {
  try {
    callback?.(arg);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** `params` with the request's id as its `progress_token`, for the methods that report progress. */
function withToken(method: string, params: unknown, id: number): unknown {
  if (!WITH_PROGRESS.has(method) || typeof params !== "object" || params === null) return params;
  return { ...params, progress_token: id };
}
