// Probability bars: one <li> per class with its name, a bar and the percentage; the winner marked.
import { element } from "./dom.js";
import { percent } from "./format.js";

export function probabilityRows(names, probabilities, winner) {
  return names.map((name, index) => {
    const p = probabilities ? probabilities[index] : 0;
    const row = element("li");
    row.dataset.class = String(index);
    if (probabilities && index === winner) row.dataset.winner = "true";
    const track = element("span", "prob-track");
    const bar = element("span", "prob-bar");
    bar.style.width = `${(p * 100).toFixed(1)}%`;
    track.append(bar);
    const value = element("span", "prob-value", probabilities ? percent(p, 1) : "");
    row.append(element("span", "prob-label", name), track, value);
    return row;
  });
}
