// The views of the Look inside tab, one at a time: the overview (weights, layer health, one digit,
// confusion), the hidden space, what each unit wants, and the coach. The panel's `data-look` says
// which is shown (the stylesheet hides the overview's cards for the others); arrow keys move
// between them. Each view loads only while it is shown (`current`), so the costly ones wait.
// On a phone the overview's cards fold too: one open at a time (the first to start), a tap on
// another's title opens it, so that the tab is a list of sections rather than one very long page.

import { tabAfterKey } from "./tabs.js";

const PHONE = "(max-width: 700px)";

export class LookTabs extends EventTarget {
  constructor(panel) {
    super();
    this.panel = panel;
    this.tabs = [...panel.querySelectorAll("[data-look-tab]")];
    this.views = [...panel.querySelectorAll("[data-look-view]")];
    this.current = "";
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.show(tab.dataset.lookTab));
      tab.addEventListener("keydown", (event) => this.onKey(event, tab));
    }
    this.show(this.tabs[0].dataset.lookTab);
    this.folds();
  }

  folds() {
    this.cards = [...this.panel.querySelectorAll(".inside-col > .card")];
    this.opened = this.cards[0] ?? null;
    this.phone = window.matchMedia(PHONE);
    for (const card of this.cards) {
      const title = card.querySelector("h2");
      if (!title) continue;
      const toggle = () => {
        if (!this.phone.matches) return;
        this.opened = card === this.opened ? null : card;
        this.fold();
        if (this.opened) title.scrollIntoView({ block: "nearest" });
      };
      title.addEventListener("click", toggle);
      title.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        toggle();
      });
    }
    this.phone.addEventListener("change", () => this.fold());
    this.fold();
  }

  fold() {
    const phone = this.phone.matches;
    this.panel.dataset.folds = String(phone);
    for (const card of this.cards) {
      const title = card.querySelector("h2");
      const open = !phone || card === this.opened;
      card.dataset.folded = String(!open);
      if (!title) continue;
      if (phone) {
        title.setAttribute("role", "button");
        title.tabIndex = 0;
        title.setAttribute("aria-expanded", String(open));
      } else {
        title.removeAttribute("role");
        title.removeAttribute("tabindex");
        title.removeAttribute("aria-expanded");
      }
    }
  }

  show(name, focus = false) {
    if (name !== this.current) {
      this.current = name;
      this.panel.dataset.look = name;
      for (const tab of this.tabs) {
        const selected = tab.dataset.lookTab === name;
        tab.setAttribute("aria-selected", String(selected));
        tab.tabIndex = selected ? 0 : -1;
      }
      for (const view of this.views) view.hidden = view.dataset.lookView !== name;
      this.dispatchEvent(new CustomEvent("change", { detail: name }));
    }
    if (focus) this.tabs.find((tab) => tab.dataset.lookTab === name)?.focus();
  }

  onKey(event, tab) {
    const next = tabAfterKey(event, this.tabs, tab);
    if (next) this.show(next.dataset.lookTab, true);
  }
}
