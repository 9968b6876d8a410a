// Past runs: the list with settings, status and final test accuracy; open one, tick two to compare,
// download a run's metrics as CSV, delete finished runs. The list follows the store (every status
// and epoch the socket tells); the opened runs are subscribed to, so their curves grow as they train.

import { api } from "./api.js";
import { element } from "./dom.js";
import { describeError } from "./errors.js";
import { configSummary, dateTime, duration, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { datasetLabel, reasonText, runDuration, runName, statusLabel } from "./words.js";

const RENDER_DELAY = 300; // ms: status and epoch messages come in bursts
const COMPARED = 4; // runs compared at once, one colour each
const CONFIRM_FOR = 4000; // ms a delete button waits for its second click

export class History {
  constructor(root, store, compare) {
    Object.assign(this, { root, store, compare });
    this.list = root.querySelector("[data-run-list]");
    this.selected = []; // at most four run ids (the chart palette's), oldest choice first
    this.chosen = false; // until the person chooses, the newest run is shown
    this.timer = 0;
    this.confirming = null; // the run id whose delete button asks for confirmation
    store.addEventListener("info", () => this.render());
    store.addEventListener("runs", () => this.renderSoon());
    store.addEventListener("connection", () => {
      if (store.connection.state === "live") this.refresh(); // what finished while the page was away
    });
    onLangChange(() => this.render());
    this.list.addEventListener("click", (event) => this.onClick(event));
    this.list.addEventListener("change", (event) => this.onToggle(event));
  }

  renderSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      if (!this.chosen) this.select(this.store.runs.slice(0, 1).map((run) => run.id), false);
      else this.render();
    }, RENDER_DELAY);
  }

  async refresh() {
    const askedAt = performance.now();
    try {
      this.store.setRuns(await api.runs(), askedAt);
      this.showError("");
    } catch (error) {
      this.showError(describeError(error));
    }
  }

  showError(text) {
    const element = this.root.querySelector("[data-history-error]");
    element.textContent = text;
    element.hidden = !text;
  }

  select(ids, byPerson = true) {
    this.chosen ||= byPerson;
    const known = new Set(this.store.runs.map((run) => run.id));
    this.selected = ids.filter((id) => known.has(id));
    this.render();
  }

  onClick(event) {
    const button = event.target.closest("button");
    const id = button?.closest("[data-run-id]")?.dataset.runId;
    if (!id) return;
    if (button.matches("[data-open]")) {
      this.select([id]);
      this.compare.element.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
    } else if (button.matches("[data-delete]")) {
      this.onDelete(id);
    }
  }

  onToggle(event) {
    const box = event.target.closest("[data-compare-box]");
    const id = box?.closest("[data-run-id]")?.dataset.runId;
    if (!id) return;
    const rest = this.selected.filter((each) => each !== id);
    this.select(box.checked ? [...rest, id].slice(-COMPARED) : rest);
  }

  async onDelete(id) {
    if (this.confirming !== id) {
      this.confirming = id;
      this.render();
      setTimeout(() => {
        if (this.confirming === id) {
          this.confirming = null;
          this.render();
        }
      }, CONFIRM_FOR);
      return;
    }
    this.confirming = null;
    try {
      await api.remove(id);
      this.selected = this.selected.filter((each) => each !== id);
      this.showError("");
      await this.refresh();
    } catch (error) {
      this.showError(describeError(error));
      this.render();
    }
  }

  render() {
    const runs = this.store.runs;
    this.root.querySelector("[data-history-empty]").hidden = runs.length > 0;
    const focused = document.activeElement?.closest?.("[data-run-id]") ? document.activeElement : null;
    const focusKey = focused && [focused.closest("[data-run-id]").dataset.runId, focusName(focused)];
    this.list.replaceChildren(...runs.map((run) => this.item(run)));
    if (focusKey) {
      this.list.querySelector(`[data-run-id="${focusKey[0]}"] [${focusKey[1]}]`)?.focus();
    }
    this.compare.show(this.selected.map((id) => runs.find((run) => run.id === id)).filter(Boolean));
  }

  item(run) {
    const li = element("li", "run-item");
    li.dataset.runId = run.id;
    const position = this.selected.indexOf(run.id);
    if (position >= 0) li.dataset.selected = String(position);

    const head = element("div", "run-item-head");
    const compare = element("label", "check");
    const box = element("input");
    box.type = "checkbox";
    box.dataset.compareBox = "";
    box.checked = position >= 0;
    compare.append(box, element("span", "", t("history.compare")));
    const status = element("span", "badge", statusLabel(run.status));
    status.dataset.state = run.status;
    const accuracy = element("strong", "run-item-accuracy", percent(run.test_accuracy, 2));
    accuracy.dataset.accuracy = "";
    // the run by its name, else by what distinguishes it; its id small beside, never alone
    head.append(element("strong", "run-item-title", runName(run)), status, accuracy, compare);

    const info = this.store.info;
    const title = [element("code", "run-item-id muted", run.id)];
    const about = element(
      "p",
      "run-item-config",
      [run.preset ?? "", configSummary(run.config, info?.settings)].filter(Boolean).join(" · "),
    );
    const took = runDuration(run);
    const when = element(
      "p",
      "muted small",
      [
        datasetLabel(info, run.dataset),
        dateTime(run.created_at),
        took == null ? "" : t("run.tookPauses", { t: duration(took) }),
      ]
        .filter(Boolean)
        .join(" · "),
    );
    const why = reasonText(run);
    const reason = why ? [element("p", "run-item-reason small", why)] : [];

    const actions = element("div", "run-item-actions");
    const open = element("button", "", t("history.open"));
    open.type = "button";
    open.dataset.open = "";
    const csv = element("a", "button-link", t("history.csv"));
    csv.href = api.csvUrl(run.id);
    csv.download = `deeplook-${run.id}.csv`;
    csv.dataset.csv = "";
    csv.setAttribute("aria-label", t("history.csvLabel", { id: run.id }));
    actions.append(open, csv);
    if (!this.store.isActive(run)) {
      const confirming = this.confirming === run.id;
      const remove = element("button", "danger", t(confirming ? "history.confirm" : "history.delete"));
      remove.type = "button";
      remove.dataset.delete = confirming ? "confirm" : "";
      actions.append(remove);
    }
    li.append(head, ...title, about, when, ...reason, actions);
    return li;
  }
}

function focusName(focused) {
  for (const name of ["data-open", "data-delete", "data-compare-box", "data-csv"]) {
    if (focused.hasAttribute(name)) return name;
  }
  return "data-open";
}
