// Creating elements: the one helper every view builds its DOM with (user text as textContent only).

/** A new `tag` element with an optional class name and text. */
export function element(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}
