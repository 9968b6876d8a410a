// The live stream: connect to /ws, feed the store, and reconnect with backoff. One socket carries
// every run: the server follows the active ones for us, and the runs views want besides (History's
// opened runs, a race's, the followed one) are subscribed to by id. Each (re)connection starts with
// the server's snapshots, and the wanted runs are subscribed to again, so a reconnected page holds
// every history again.

import { api } from "./api.js";
import { FULL_HISTORY_STEPS } from "./series.js";

const BACKOFF_FIRST = 500; // ms
const BACKOFF_MAX = 15000;
const PING_EVERY = 10000; // an app-level heartbeat: a socket that stays silent is dead
const PONG_WITHIN = 6000;

export class LiveSocket {
  constructor(store, url = defaultUrl()) {
    this.store = store;
    this.url = url;
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.countdownTimer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.stopped = false;
    this.synced = false; // the first frame of this connection (its snapshots) has been applied
    this.subscribed = new Set(); // ids subscribed to on this connection, or snapshotted on connect
    store.addEventListener("wanted", () => this.syncWanted());
    store.addEventListener("run-status", (event) => this.onStatus(event.detail.id));
  }

  start() {
    this.connect();
    window.addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.retryNow();
    });
    window.addEventListener("pagehide", () => this.close());
    window.addEventListener("pageshow", (event) => {
      if (!event.persisted) return; // back from the back/forward cache: connect again
      this.stopped = false;
      this.retryNow();
    });
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    this.stopHeartbeat();
    this.socket?.close(1000);
    this.socket = null;
  }

  retryNow() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    this.connect();
  }

  connect() {
    this.store.setConnection("connecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.synced = false;
    this.subscribed = new Set();
    socket.addEventListener("message", (event) => this.onMessage(event));
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopHeartbeat();
      if (!this.stopped) this.scheduleRetry();
    });
    socket.addEventListener("error", () => socket.close());
  }

  scheduleRetry() {
    const base = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2); // jitter: tabs do not all come back at once
    this.attempt += 1;
    const due = Date.now() + delay;
    const tick = () =>
      this.store.setConnection("offline", Math.max(1, Math.ceil((due - Date.now()) / 1000)));
    tick();
    clearInterval(this.countdownTimer);
    this.countdownTimer = setInterval(tick, 1000);
    this.retryTimer = setTimeout(() => {
      clearInterval(this.countdownTimer);
      this.connect();
    }, delay);
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (this.socket?.readyState !== WebSocket.OPEN) return;
      this.socket.send(JSON.stringify({ type: "ping" }));
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.socket?.close(4000, "no pong"), PONG_WITHIN);
    }, PING_EVERY);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    clearTimeout(this.pongTimer); // any message shows the connection is alive
    const messages = message.type === "batch" ? message.messages : [message];
    const first = !this.synced;
    if (first) this.store.beginSync();
    for (const inner of messages) this.apply(inner);
    if (first) {
      // the server sends every snapshot of the connection before anything else, in one frame
      this.synced = true;
      this.attempt = 0;
      this.store.endSync();
      this.store.setConnection("live");
      this.startHeartbeat();
      this.syncWanted();
    }
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Subscribe to the runs views want that this connection does not follow yet; drop the others. */
  syncWanted() {
    if (!this.synced) return; // after the snapshots of the connection
    const wanted = new Set(this.store.wantedIds());
    for (const record of this.store.records.values()) {
      // a run that trains but whose history this page has not got (it resumed, or streamed while away)
      if (!record.loaded && this.store.isActive(record.summary) && record.summary.steps_done > 0) {
        wanted.add(record.id);
      }
    }
    const add = [...wanted].filter((id) => !this.subscribed.has(id) && !this.store.record(id)?.loaded);
    const drop = [...this.subscribed].filter((id) => !wanted.has(id));
    for (const id of add) this.subscribed.add(id);
    for (const id of drop) this.subscribed.delete(id);
    for (let i = 0; i < add.length; i += SUBSCRIBE_AT_MOST) {
      this.send({ type: "subscribe", runs: add.slice(i, i + SUBSCRIBE_AT_MOST) });
    }
    if (drop.length) this.send({ type: "unsubscribe", runs: drop.slice(0, SUBSCRIBE_AT_MOST) });
  }

  /** One server message into the store. */
  apply(message) {
    const store = this.store;
    switch (message.type) {
      case "snapshot":
        if (!message.run) break; // no run yet
        this.subscribed.add(message.run.id);
        store.loadRun(message.run, message.progress ?? null);
        if (message.run.steps.downsampled && message.run.steps_done <= FULL_HISTORY_STEPS) {
          this.fetchWhole(message.run.id);
        }
        break;
      case "status":
        store.applyStatus(message.run);
        break;
      case "step":
        store.applySteps(message);
        break;
      case "epoch":
        store.applyEpoch(message);
        break;
      case "progress":
        store.applyProgress(message);
        break;
      case "change":
        store.applyChange(message);
        break;
      default:
        break; // pong, or a message type this page does not know yet
    }
  }

  /** The whole step history of a run the snapshot sent downsampled; the snapshot stays if this fails. */
  fetchWhole(id) {
    api.metrics(id).then(
      (metrics) => {
        const held = this.store.record(id);
        if (!held) return;
        this.store.loadRun({ ...held.summary, steps: metrics.steps, epochs: metrics.epochs }, undefined);
      },
      () => {},
    );
  }

  /** A run that resumed, or that started while this page was away: ask for its history. */
  onStatus(id) {
    const record = this.store.record(id);
    if (record && !record.loaded && record.summary.steps_done > 0) this.syncWanted();
  }
}

const SUBSCRIBE_AT_MOST = 64; // ids in one subscribe message (the server's limit)

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
