// Concept help: a small "?" button beside something a learner meets (the optimizer, the batch size,
// saturation, the update/weight ratio, why softmax always answers...) that opens a few sentences
// about it, with a link to the Step by step stage that shows it at work. The button says what it is
// about to screen readers and tells whether it is open (aria-expanded); the text is an ordinary
// paragraph that follows it. CONCEPTS is the one list of them; their words are concept.<name> and
// concept.<name>.topic in i18n.js. In the page: <div class="concept" data-concept="saturation">
// filled by mountConcepts; a view that builds its own DOM (the run form) calls conceptHelp. Texts
// follow the language, and the server's info where they quote it (the saturation thresholds).

import { element } from "./dom.js";
import { measure } from "./format.js";
import { has, onLangChange, t } from "./i18n.js";
import { byName, choiceRegistry, healthRule } from "./registry.js";
import { choiceExplanation, choiceLabel } from "./words.js";

const UPDATE = "#step/update-W1";

/**
 * One sentence per optimizer the server serves (GET /api/info), SGD followed by SGD with momentum
 * (a setting of SGD, shown at work on its own): ours when i18n.js has it, else the registry's text.
 */
function optimizerItems(info) {
  const setting = byName(info?.settings, "optimizer");
  if (!setting) return [];
  const names = choiceRegistry(info, setting)?.map((entry) => entry.name) ?? setting.choices ?? [];
  const kinds = names.flatMap((name) => (name === "sgd" ? [name, "momentum"] : [name]));
  return kinds.map((kind) => {
    const key = `concept.optimizer.${kind}`;
    const about = choiceExplanation(info, setting, kind);
    const text = has(key) ? t(key) : [choiceLabel(info, setting, kind), about].filter(Boolean).join(": ");
    return { text, link: `${UPDATE}?for=${kind}` };
  });
}

const CONCEPTS = {
  optimizer: { items: optimizerItems },
  batch_size: { link: "#step/X" },
  epochs: {},
  init: { link: "#step/a1" },
  lr_decay: {},
  momentum: { link: `${UPDATE}?for=momentum` },
  saturation: {
    link: "#step/da1",
    // the thresholds of the health chart: the sigmoid's health rule in GET /api/info
    params: (info) => {
      const rule = healthRule(info, "sigmoid");
      const known = rule.kind === "saturated" && rule.low != null;
      return known
        ? { low: measure(rule.low), high: measure(rule.high), slope: measure(rule.low * (1 - rule.low)) }
        : { low: "–", high: "–", slope: "–" };
    },
  },
  "update-ratio": { link: UPDATE },
  softmax: { link: "#step/y_hat" },
  backprop: { link: "#step/dy" },
};

let count = 0; // for the panels' ids

export function hasConcept(name) {
  return Object.hasOwn(CONCEPTS, name);
}

/**
 * A concept's "?" button and its panel (hidden until pressed), to place where they fit. `store`
 * gives the server's info; `lead()` may return a line to open the panel with (a setting's own
 * help); `label` shows the topic beside the "?".
 */
export function conceptHelp(name, store, { lead = null, label = false } = {}) {
  const concept = CONCEPTS[name];
  const id = `concept-${++count}`;
  const toggle = element("button", "concept-toggle");
  toggle.type = "button";
  toggle.dataset.conceptToggle = name;
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", id);
  const mark = element("span", "concept-mark", "?");
  mark.setAttribute("aria-hidden", "true");
  const topic = element("span", "concept-topic");
  toggle.append(mark, topic);
  const panel = element("div", "concept-panel");
  panel.id = id;
  panel.dataset.conceptPanel = name;
  panel.hidden = true;
  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  });
  const render = () => {
    const about = t(`concept.${name}.topic`);
    topic.textContent = label ? about : "";
    toggle.setAttribute("aria-label", t("concept.label", { topic: about }));
    toggle.title = t("concept.label", { topic: about });
    const parts = [];
    const first = lead?.();
    if (first) parts.push(element("p", "concept-lead", first));
    parts.push(element("p", "", t(`concept.${name}`, concept.params?.(store.info) ?? {})));
    if (concept.items) {
      const list = element("ul");
      for (const item of concept.items(store.info)) {
        const entry = element("li", "", `${item.text} `);
        entry.append(stepLink(item.link));
        list.append(entry);
      }
      parts.push(list);
    }
    if (concept.link) {
      const more = element("p");
      more.append(stepLink(concept.link));
      parts.push(more);
    }
    panel.replaceChildren(...parts);
  };
  render();
  onLangChange(render);
  store.addEventListener("info", render);
  return { toggle, panel };
}

function stepLink(href) {
  const link = element("a", "concept-link", `${t("concept.step")} →`);
  link.href = href;
  return link;
}

/** Fill every [data-concept] placeholder below `root` with its button (and topic) and panel. */
export function mountConcepts(root, store) {
  for (const host of root.querySelectorAll("[data-concept]")) {
    if (!hasConcept(host.dataset.concept) || host.childElementCount) continue;
    const { toggle, panel } = conceptHelp(host.dataset.concept, store, { label: true });
    host.append(toggle, panel);
  }
}
