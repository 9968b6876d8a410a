// The live stream: connect to /ws, feed the store, and reconnect with backoff. Each (re)connection
// starts with the server's snapshot, so a reconnected page holds the whole history again.

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
    if (message.type === "batch") {
      for (const inner of message.messages) this.apply(inner);
    } else {
      this.apply(message);
    }
  }

  /** One server message into the store. */
  apply(message) {
    const store = this.store;
    switch (message.type) {
      case "snapshot":
        this.attempt = 0;
        store.loadRun(message.run, message.progress);
        store.setConnection("live");
        this.startHeartbeat();
        if (message.run?.steps.downsampled && message.run.steps_done <= FULL_HISTORY_STEPS) {
          this.fetchWhole(message.run.id);
        }
        break;
      case "status":
        this.onStatus(message.run);
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
      default:
        break; // pong, or a message type this page does not know yet
    }
  }

  /** The whole step history of a run the snapshot sent downsampled; the snapshot stays if this fails. */
  fetchWhole(id) {
    api.metrics(id).then(
      (metrics) => this.store.mergeHistory({ id, steps: metrics.steps, epochs: metrics.epochs }),
      () => {},
    );
  }

  onStatus(summary) {
    const store = this.store;
    const isNew = store.run?.id !== summary.id;
    store.applyStatus(summary);
    if (isNew && summary.steps_done > 0) {
      // an earlier run resumed: fetch what it had trained before
      api.run(summary.id).then(
        (detail) => store.mergeHistory(detail),
        () => this.socket?.close(4001, "resync"), // the snapshot after reconnecting has it
      );
    }
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
