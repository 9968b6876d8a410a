// What GET /api/info says, looked up: statuses, datasets, activations, the run settings and where
// each lives in a run's config. The server owns every one of these words; the page only reads them.

/** The entry called `name` in one of info's lists, or null. */
export function byName(list, name) {
  return list?.find((entry) => entry.name === name) ?? null;
}

/** The status sets: active (has a trainer, or waits for one), finished (not active), resumable. */
export function statusSets(info) {
  const statuses = info?.statuses ?? [];
  const names = (keep) => new Set(statuses.filter(keep).map((status) => status.name));
  return {
    active: names((status) => status.active),
    finished: names((status) => !status.active),
    resumable: names((status) => status.resumable),
  };
}

/** The dataset a page shows before it knows better: the default preset's. */
export function defaultDatasetName(info) {
  return byName(info?.presets, info?.default_preset)?.config.dataset ?? info?.datasets?.[0]?.name ?? null;
}

/** A dataset's registry entry (class names, image shape, sizes); the default one for an unknown name. */
export function datasetOf(info, name) {
  return byName(info?.datasets, name) ?? byName(info?.datasets, defaultDatasetName(info));
}

/** Values per image of a dataset: rows times columns of its image shape. */
export function pixelCount(dataset) {
  return dataset ? dataset.image_shape[0] * dataset.image_shape[1] : 0;
}

/** How a layer of this activation is judged unhealthy: "saturated" or "dead" (see info.activations). */
export function healthRule(info, activation) {
  return byName(info?.activations, activation)?.health ?? { kind: "saturated", low: null, high: null };
}

/**
 * The registry a choice setting picks from (info.activations for "activation", ...): the list in
 * info that the server names, else the one whose names are exactly the setting's choices.
 */
export function choiceRegistry(info, setting) {
  if (setting.kind !== "choice" || !info) return null;
  if (setting.registry) return info[setting.registry] ?? null;
  const wanted = [...setting.choices].sort().join("\n");
  for (const list of Object.values(info)) {
    if (!Array.isArray(list) || !list.every((entry) => entry && typeof entry.name === "string")) continue;
    if (list.map((entry) => entry.name).sort().join("\n") === wanted) return list;
  }
  return null;
}

const isSection = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * A setting's value in a run config. Where it lives comes from the setting (`section` and `field`)
 * when the server says; else it is found by name: at the top, inside a section (model, optimizer),
 * or as the `name` of a section called after it (the optimizer's name).
 */
export function configValue(config, setting) {
  if (!config) return undefined;
  const name = setting.name;
  if (setting.field !== undefined) {
    const holder = setting.section ? config[setting.section] : config;
    return holder?.[setting.field];
  }
  if (name in config && !isSection(config[name])) return config[name];
  for (const part of Object.values(config)) {
    if (isSection(part) && name in part) return part[name];
  }
  if (isSection(config[name]) && "name" in config[name]) return config[name].name;
  return undefined;
}

/** Whether a setting has an effect in this config: no `applies_when`, or the other setting matches. */
export function applies(settings, setting, valueOf) {
  if (!setting.applies_when) return true;
  const [other, values] = setting.applies_when;
  const otherSetting = byName(settings, other);
  return otherSetting != null && values.includes(valueOf(otherSetting));
}

/**
 * The paces a run can train at: info.paces when the server lists them, else the API's enum of
 * `pace` (RunCreate, RunChange): as fast as it trains, about 20 s an epoch, one step per request.
 */
export function paceNames(info) {
  return info?.paces?.map((pace) => pace.name ?? pace) ?? ["full", "watchable", "step"];
}

/** The settings a race may vary: every one but those its runs must share (info.race_shared). */
export function raceVariable(info) {
  const shared = new Set(info?.race_shared ?? []);
  return (info?.settings ?? []).filter((setting) => !shared.has(setting.name));
}
