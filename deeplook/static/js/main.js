// Wires the modules together: the store, the live socket, the views. Nothing else happens here.

import { api } from "./api.js";
import { Compare } from "./compare.js";
import { mountConcepts } from "./concept.js";
import { RunForm } from "./controls.js";
import { DrawPad } from "./draw.js";
import { ConnectionView, TokenBar, languageSwitch } from "./header.js";
import { History } from "./history.js";
import { apply } from "./i18n.js";
import { Inside } from "./inside.js";
import { EpochCharts, LossChart } from "./live.js";
import { Predictor } from "./predict.js";
import { RaceForm } from "./race-form.js";
import { RaceView } from "./race.js";
import { RunBar } from "./runbar.js";
import { RunSwitch } from "./runswitch.js";
import { LiveSocket } from "./socket.js";
import { StepView } from "./step.js";
import { Store } from "./store.js";
import { Tabs } from "./tabs.js";

const $ = (selector) => document.querySelector(selector);

apply(document);
const store = new Store();
const tabs = new Tabs($("[data-tabs]"), document.querySelectorAll("[data-panel]"));

new ConnectionView($("[data-connection]"), store);
languageSwitch($("[data-language]"));
new TokenBar($("[data-token-bar]"), store);

const form = new RunForm($("[data-run-form]"), store);
new RaceForm($("[data-race-part]"), form, store);
new RunSwitch($("[data-run-switch]"), store);
new RunBar($("[data-run-bar]"), store);
new RaceView($("[data-race]"), store);
new LossChart($("[data-loss-card]"), store);
new EpochCharts($("[data-panel='train']"), store);

const predictor = new Predictor($("[data-panel='draw']"), new DrawPad($("[data-pad]")), store);
document.addEventListener("keydown", (event) => {
  if (tabs.current === "draw" && predictor.handleKey(event)) event.preventDefault();
});

const history = new History($("[data-panel='history']"), store, new Compare($("[data-compare]"), store));
const inside = new Inside($("[data-panel='inside']"), store, () => predictor.answer?.pixels ?? null);
tabs.addEventListener("change", (event) => {
  if (event.detail === "history") history.refresh();
  inside.setVisible(event.detail === "inside");
});
inside.setVisible(tabs.current === "inside");
new StepView($("[data-panel='step']"), store, tabs);
mountConcepts(document, store);

api.info().then(
  (info) => store.setInfo(info),
  (error) => form.showApiError(error),
);
history.refresh();
new LiveSocket(store).start();
document.documentElement.dataset.ready = "true";
