// Creating elements: the helpers every view builds its DOM with (user text as textContent only).

/** `finder(root)(name)`: the element under `root` marked `data-<name>` (each view finds its parts so). */
export function finder(root) {
  return (name) => root.querySelector(`[data-${name}]`);
}

/** A new `tag` element with an optional class name and text. */
export function element(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/** Replace a select's options unless they read the same already (keeps an open list open). */
export function replaceOptions(select, options) {
  const same =
    options.length === select.options.length &&
    options.every((option, i) => option.text === select.options[i].text && option.value === select.options[i].value);
  if (!same) select.replaceChildren(...options);
}
