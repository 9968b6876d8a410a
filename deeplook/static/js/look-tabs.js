// The views of the Look inside tab, one at a time: the overview (weights, layer health, one digit,
// confusion), the hidden space, what each unit wants, and the coach. The panel's `data-look` says
// which is shown (the stylesheet hides the overview's cards for the others); arrow keys move
// between them. Each view loads only while it is shown (`current`), so the costly ones wait.

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
    const index = this.tabs.indexOf(tab);
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: this.tabs.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = this.tabs[(index + moves[event.key] + this.tabs.length) % this.tabs.length];
    this.show(next.dataset.lookTab, true);
  }
}
