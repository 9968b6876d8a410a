// The sections as tabs: one panel shown at a time, chosen by the URL hash (#train, #draw, #history)
// so a reload or a link keeps it; arrow keys move between tabs. A tab may keep a place of its own
// after a slash (#step/dW1): the part before it names the tab.

/** The tab an arrow, Home or End key moves to from `tab` in a tab list (the key then does nothing
 * else), or null for any other key: the WAI-ARIA tabs pattern, wrapping around. */
export function tabAfterKey(event, tabs, tab) {
  const index = tabs.indexOf(tab);
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
  if (!(event.key in moves)) return null;
  event.preventDefault();
  return tabs[(index + moves[event.key] + tabs.length) % tabs.length];
}

export class Tabs extends EventTarget {
  constructor(tablist, panels) {
    super();
    this.tabs = [...tablist.querySelectorAll("[data-tab]")];
    this.panels = panels;
    this.current = "";
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.go(tab.dataset.tab, true));
      tab.addEventListener("keydown", (event) => this.onKey(event, tab));
    }
    window.addEventListener("hashchange", () => this.show(this.fromHash()));
    this.show(this.fromHash());
  }

  fromHash() {
    const name = tabOfHash();
    return this.tabs.some((tab) => tab.dataset.tab === name) ? name : this.tabs[0].dataset.tab;
  }

  go(name, focus = false) {
    if (tabOfHash() !== name) history.replaceState(null, "", `#${name}`);
    this.show(name);
    if (focus) this.tabs.find((tab) => tab.dataset.tab === name)?.focus();
  }

  show(name) {
    if (name === this.current) return;
    this.current = name;
    for (const tab of this.tabs) {
      const selected = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    for (const panel of this.panels) panel.hidden = panel.dataset.panel !== name;
    this.dispatchEvent(new CustomEvent("change", { detail: name }));
  }

  onKey(event, tab) {
    const next = tabAfterKey(event, this.tabs, tab);
    if (next) this.go(next.dataset.tab, true);
  }
}

/** The tab the address names: what comes before any slash of its hash. */
function tabOfHash() {
  return location.hash.slice(1).split("/")[0];
}
