// Probability bars: one <li> per class with its name, a bar and the percentage; the winner marked.
import { percent } from "./format.js";

export function probabilityRows(names, probabilities, winner) {
  return names.map((name, index) => {
    const p = probabilities ? probabilities[index] : 0;
    const row = document.createElement("li");
    row.dataset.class = String(index);
    if (probabilities && index === winner) row.dataset.winner = "true";
    const label = document.createElement("span");
    label.className = "prob-label";
    label.textContent = name;
    const track = document.createElement("span");
    track.className = "prob-track";
    const bar = document.createElement("span");
    bar.className = "prob-bar";
    bar.style.width = `${(p * 100).toFixed(1)}%`;
    track.append(bar);
    const value = document.createElement("span");
    value.className = "prob-value";
    value.textContent = probabilities ? percent(p, 1) : "";
    row.append(label, track, value);
    return row;
  });
}
