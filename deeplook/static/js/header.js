// The header's small views: the connection indicator, the language switch and the API token bar
// (shown only when the server asks for a token).

import { getToken, setToken } from "./api.js";
import { languages, lang, onLangChange, setLang, t } from "./i18n.js";

export class ConnectionView {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.text = root.querySelector("[data-connection-text]");
    this.retry = root.querySelector("[data-connection-retry]");
    store.addEventListener("connection", () => this.render());
    onLangChange(() => this.render());
    this.render();
  }

  render() {
    const { state, retryIn } = this.store.connection;
    this.root.dataset.state = state;
    const text = t(`conn.${state}`);
    if (this.text.textContent !== text) this.text.textContent = text; // announced on change only
    this.retry.textContent = state === "offline" ? t("conn.retry", { s: retryIn }) : ""; // not announced
    this.root.title = t("conn.label");
  }
}

export function languageSwitch(select) {
  select.replaceChildren(...Object.entries(languages).map(([code, name]) => new Option(name, code)));
  select.value = lang();
  select.addEventListener("change", () => setLang(select.value));
  onLangChange(() => {
    select.value = lang();
  });
}

export class TokenBar {
  constructor(root, store) {
    this.root = root;
    this.input = root.querySelector("[data-token]");
    this.saved = root.querySelector("[data-token-saved]");
    this.input.value = getToken();
    this.saved.hidden = !this.input.value;
    root.addEventListener("submit", (event) => event.preventDefault());
    this.input.addEventListener("input", () => {
      setToken(this.input.value.trim());
      this.saved.hidden = !this.input.value.trim();
    });
    store.addEventListener("info", () => {
      root.hidden = !store.info.auth_required;
    });
  }
}
