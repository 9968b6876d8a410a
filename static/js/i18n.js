// Every UI string, in English and Korean (the two dictionaries have identical keys), and the switch.

const en = {
  "app.tagline": "Watch a neural network learn to read handwriting",
  "app.skip": "Skip to content",
  "tab.label": "Sections",
  "tab.train": "Train",
  "tab.draw": "Draw",
  "tab.history": "History",
  "lang.label": "Language",
  "conn.label": "Connection",
  "conn.connecting": "Connecting…",
  "conn.live": "Live",
  "conn.offline": "Offline, reconnecting",
  "conn.retry": "in {s} s",

  "token.label": "API token",
  "token.hint": "This server asks for a token to start, pause, stop or delete runs. It is kept in this browser.",
  "token.saved": "Saved",
  "token.needed": "This server needs an API token: enter it in the box at the top.",
  "token.wrong": "The API token is wrong: check the box at the top.",

  "form.title": "New run",
  "form.start": "Start",
  "form.starting": "Starting…",
  "form.busy": "A run is active: stop it (or let it finish) to start another.",
  "form.more": "More settings",
  "field.preset": "Preset",
  "preset.modified": "(modified)",
  "preset.notebook-sgd": "The notebook's NumPy network: 784-50-10 sigmoid, plain SGD.",
  "preset.notebook-adam": "The notebook's Keras network: the same shape, Glorot init, Adam.",
  "preset.relu-adam": "A stronger net: two ReLU layers, He init, Adam with a decaying learning rate.",
  "field.dataset": "Dataset",
  "dataset.mnist": "MNIST digits",
  "dataset.fashion-mnist": "Fashion-MNIST clothes",
  "field.hidden": "Hidden layers",
  "hint.hidden": "Neurons per layer, e.g. 256, 128",
  "field.activation": "Activation",
  "field.init": "Weight init",
  "init.normal": "Normal (σ)",
  "init.glorot": "Glorot",
  "init.he": "He",
  "field.init_std": "Init σ",
  "field.optimizer": "Optimizer",
  "field.lr": "Learning rate",
  "field.lr_decay": "LR decay / epoch",
  "field.momentum": "Momentum",
  "field.batch_size": "Batch size",
  "field.epochs": "Epochs",
  "field.seed": "Seed",
  "explain.sigmoid": "Sigmoid squashes a neuron's sum into 0…1: smooth, but slow to learn where it is flat.",
  "explain.tanh": "Tanh squashes into −1…1 around zero, and often learns faster than sigmoid.",
  "explain.relu": "ReLU keeps positive values and zeroes the rest: simple, fast, usual in deep nets.",
  "explain.lr": "The learning rate is the size of each step downhill: too small crawls, too big overshoots.",

  "error.number": "Enter a number.",
  "error.integer": "Enter a whole number.",
  "error.hidden": "Enter whole numbers separated by commas, e.g. 256, 128.",
  "error.network": "The server could not be reached.",
  "error.server": "The server answered {status}.",
  "val.greater_than": "Input should be greater than {n}",
  "val.greater_than_equal": "Input should be greater than or equal to {n}",
  "val.less_than": "Input should be less than {n}",
  "val.less_than_equal": "Input should be less than or equal to {n}",
  "val.too_short": "Give at least {n} value(s)",
  "val.too_long": "Give at most {n} values",

  "run.none": "No run yet: choose the settings and press Start.",
  "run.label": "Run {id}",
  "run.epochOf": "Epoch {x} of {n}",
  "run.step": "Step {x} of {n}",
  "run.rate": "{n} samples/s",
  "run.eta": "{t} left",
  "run.took": "took {t}",
  "run.testAcc": "Test accuracy {v}",
  "run.loading": "Loading the data…",
  "run.pause": "Pause",
  "run.resume": "Resume",
  "run.stop": "Stop",
  "run.progress": "Training progress",
  "status.loading-data": "Loading data",
  "status.running": "Running",
  "status.paused": "Paused",
  "status.completed": "Completed",
  "status.stopped": "Stopped",
  "status.diverged": "Diverged",
  "status.failed": "Failed",
  "status.interrupted": "Interrupted",

  "chart.loss": "Loss per step",
  "chart.lossExplain":
    "Cross-entropy: how surprised the network is by the right answer. Lower is better; a blind guess among 10 scores 2.3.",
  "chart.smoothing": "Smoothing",
  "chart.log": "Log scale",
  "chart.accuracy": "Accuracy per epoch",
  "chart.accuracyExplain":
    "Test images are never trained on, so test accuracy can lag train accuracy: the network partly memorises what it has seen.",
  "chart.epochLoss": "Loss per epoch",
  "chart.epochLossExplain": "Measured after each epoch on all 60,000 training and 10,000 test images.",
  "chart.empty": "Start a run to watch the network learn.",
  "chart.noEpoch": "No epoch has finished yet.",
  "chart.noSteps": "No step has been recorded yet.",
  "series.batch": "loss (each batch)",
  "series.smoothed": "smoothed",
  "series.train": "train",
  "series.test": "test",
  "axis.step": "step",
  "axis.epoch": "epoch",

  "draw.title": "Draw a digit",
  "draw.titleFashion": "Draw a piece of clothing",
  "draw.hint": "Draw one large digit filling the box; the network answers as you draw.",
  "draw.hintFashion": "Draw one piece of clothing filling the box; the network answers as you draw.",
  "draw.canvas": "Drawing area: draw with a mouse, a finger or a pen. Press C or Delete to clear.",
  "draw.clear": "Clear",
  "draw.model": "Model",
  "draw.current": "Current model (follows training)",
  "draw.answer": "The network says",
  "draw.empty": "Draw something to get an answer.",
  "draw.noModel":
    "No trained model yet. Start a run on the Train tab: the network can answer after its first epoch.",
  "draw.modelInfo": "Run {id}, epoch {epoch}, test accuracy {acc}",
  "draw.probs": "Probabilities",
  "explain.softmax":
    "Softmax turns the ten output scores into probabilities that add up to 100%; the highest one wins.",
  "draw.seen": "What the network sees",
  "draw.seenHint": "Your drawing, inverted, shrunk to 28×28 and centred like the MNIST images.",

  "history.title": "Past runs",
  "history.empty": "No runs yet.",
  "history.hint": "Open a run to see its curves, or tick two to compare them.",
  "history.run": "Run",
  "history.config": "Settings",
  "history.status": "Status",
  "history.accuracy": "Test acc.",
  "history.compare": "Compare",
  "history.open": "Open",
  "history.csv": "CSV",
  "history.csvLabel": "Download the metrics of run {id} as CSV",
  "history.delete": "Delete",
  "history.confirm": "Really delete?",
  "history.detail": "Curves",
  "history.pick": "Choose a run in the list.",
  "history.testAccuracy": "Test accuracy per epoch",
  "history.lossSmoothed": "Loss per step (smoothed)",
  "history.setting": "Setting",
  "history.duration": "Training time",
  "history.finalTest": "Final test accuracy",
  "history.finalTrain": "Final train accuracy",
  "config.epochs": "{n} epochs",
  "config.batch": "batch {n}",
};

const ko = {
  "app.tagline": "신경망이 손글씨 읽는 법을 배우는 모습을 지켜보세요",
  "app.skip": "본문으로 건너뛰기",
  "tab.label": "구역",
  "tab.train": "학습",
  "tab.draw": "그리기",
  "tab.history": "기록",
  "lang.label": "언어",
  "conn.label": "연결",
  "conn.connecting": "연결 중…",
  "conn.live": "실시간",
  "conn.offline": "연결 끊김, 다시 연결하는 중",
  "conn.retry": "{s}초 후",

  "token.label": "API 토큰",
  "token.hint": "이 서버는 학습을 시작·일시정지·중지·삭제할 때 토큰을 요구합니다. 토큰은 이 브라우저에 저장됩니다.",
  "token.saved": "저장됨",
  "token.needed": "이 서버는 API 토큰이 필요합니다. 맨 위 칸에 입력하세요.",
  "token.wrong": "API 토큰이 틀렸습니다. 맨 위 칸을 확인하세요.",

  "form.title": "새 학습",
  "form.start": "시작",
  "form.starting": "시작하는 중…",
  "form.busy": "진행 중인 학습이 있습니다. 새로 시작하려면 중지하거나 끝날 때까지 기다리세요.",
  "form.more": "추가 설정",
  "field.preset": "프리셋",
  "preset.modified": "(수정됨)",
  "preset.notebook-sgd": "노트북의 NumPy 신경망: 784-50-10 시그모이드, 기본 SGD.",
  "preset.notebook-adam": "노트북의 Keras 신경망: 같은 구조, Glorot 초기화, Adam.",
  "preset.relu-adam": "더 강한 신경망: ReLU 층 두 개, He 초기화, 학습률이 줄어드는 Adam.",
  "field.dataset": "데이터셋",
  "dataset.mnist": "MNIST 숫자",
  "dataset.fashion-mnist": "Fashion-MNIST 옷",
  "field.hidden": "은닉층",
  "hint.hidden": "층마다 뉴런 수, 예: 256, 128",
  "field.activation": "활성화 함수",
  "field.init": "가중치 초기화",
  "init.normal": "정규분포 (σ)",
  "init.glorot": "Glorot",
  "init.he": "He",
  "field.init_std": "초기화 σ",
  "field.optimizer": "옵티마이저",
  "field.lr": "학습률",
  "field.lr_decay": "에폭당 학습률 감소",
  "field.momentum": "모멘텀",
  "field.batch_size": "배치 크기",
  "field.epochs": "에폭",
  "field.seed": "시드",
  "explain.sigmoid": "시그모이드는 뉴런의 합을 0…1로 눌러 줍니다. 매끄럽지만 평평해지는 곳에서는 느리게 배웁니다.",
  "explain.tanh": "tanh는 값을 0을 중심으로 −1…1로 눌러 주며, 시그모이드보다 빨리 배우는 경우가 많습니다.",
  "explain.relu": "ReLU는 양수는 그대로 두고 나머지는 0으로 만듭니다. 단순하고 빨라서 깊은 신경망에 흔히 씁니다.",
  "explain.lr": "학습률은 손실을 따라 내려가는 한 걸음의 크기입니다. 너무 작으면 느리고, 너무 크면 지나쳐 발산할 수 있습니다.",

  "error.number": "숫자를 입력하세요.",
  "error.integer": "정수를 입력하세요.",
  "error.hidden": "쉼표로 구분한 정수를 입력하세요. 예: 256, 128.",
  "error.network": "서버에 연결할 수 없습니다.",
  "error.server": "서버가 {status} 오류로 답했습니다.",
  "val.greater_than": "{n}보다 커야 합니다",
  "val.greater_than_equal": "{n} 이상이어야 합니다",
  "val.less_than": "{n}보다 작아야 합니다",
  "val.less_than_equal": "{n} 이하여야 합니다",
  "val.too_short": "값을 {n}개 이상 입력하세요",
  "val.too_long": "값은 {n}개까지 입력할 수 있습니다",

  "run.none": "아직 학습이 없습니다. 설정을 고르고 시작을 누르세요.",
  "run.label": "학습 {id}",
  "run.epochOf": "에폭 {x} / {n}",
  "run.step": "스텝 {x} / {n}",
  "run.rate": "초당 {n}개 샘플",
  "run.eta": "{t} 남음",
  "run.took": "{t} 걸림",
  "run.testAcc": "테스트 정확도 {v}",
  "run.loading": "데이터를 불러오는 중…",
  "run.pause": "일시정지",
  "run.resume": "재개",
  "run.stop": "중지",
  "run.progress": "학습 진행률",
  "status.loading-data": "데이터 불러오는 중",
  "status.running": "학습 중",
  "status.paused": "일시정지됨",
  "status.completed": "완료",
  "status.stopped": "중지됨",
  "status.diverged": "발산함",
  "status.failed": "실패",
  "status.interrupted": "중단됨",

  "chart.loss": "스텝별 손실",
  "chart.lossExplain":
    "교차 엔트로피: 정답을 보고 신경망이 얼마나 놀라는지입니다. 낮을수록 좋고, 10개 중 무작위로 찍으면 2.3입니다.",
  "chart.smoothing": "평활화",
  "chart.log": "로그 스케일",
  "chart.accuracy": "에폭별 정확도",
  "chart.accuracyExplain":
    "테스트 이미지로는 학습하지 않으므로 테스트 정확도가 학습 정확도보다 낮을 수 있습니다. 신경망이 본 것을 어느 정도 외우기 때문입니다.",
  "chart.epochLoss": "에폭별 손실",
  "chart.epochLossExplain": "에폭이 끝날 때마다 학습 이미지 60,000장과 테스트 이미지 10,000장 전체로 잽니다.",
  "chart.empty": "학습을 시작하면 신경망이 배우는 모습을 볼 수 있습니다.",
  "chart.noEpoch": "아직 끝난 에폭이 없습니다.",
  "chart.noSteps": "아직 기록된 스텝이 없습니다.",
  "series.batch": "손실 (배치별)",
  "series.smoothed": "평활",
  "series.train": "학습",
  "series.test": "테스트",
  "axis.step": "스텝",
  "axis.epoch": "에폭",

  "draw.title": "숫자 그리기",
  "draw.titleFashion": "옷 그리기",
  "draw.hint": "칸을 채우도록 숫자 하나를 크게 그리세요. 그리는 동안 신경망이 답합니다.",
  "draw.hintFashion": "칸을 채우도록 옷 하나를 크게 그리세요. 그리는 동안 신경망이 답합니다.",
  "draw.canvas": "그리기 영역: 마우스, 손가락, 펜으로 그리세요. C나 Delete를 누르면 지워집니다.",
  "draw.clear": "지우기",
  "draw.model": "모델",
  "draw.current": "현재 모델 (학습을 따라감)",
  "draw.answer": "신경망의 답",
  "draw.empty": "무언가를 그리면 답이 나옵니다.",
  "draw.noModel": "아직 학습된 모델이 없습니다. 학습 탭에서 학습을 시작하세요. 첫 에폭이 끝나면 답할 수 있습니다.",
  "draw.modelInfo": "학습 {id}, 에폭 {epoch}, 테스트 정확도 {acc}",
  "draw.probs": "확률",
  "explain.softmax": "소프트맥스는 출력 점수 열 개를 합이 100%인 확률로 바꿉니다. 가장 높은 것이 답입니다.",
  "draw.seen": "신경망이 보는 이미지",
  "draw.seenHint": "그린 그림을 반전하고 28×28로 줄여 MNIST 이미지처럼 가운데에 놓은 것입니다.",

  "history.title": "지난 학습",
  "history.empty": "아직 학습이 없습니다.",
  "history.hint": "학습을 열어 곡선을 보거나, 두 개를 골라 비교하세요.",
  "history.run": "학습",
  "history.config": "설정",
  "history.status": "상태",
  "history.accuracy": "테스트 정확도",
  "history.compare": "비교",
  "history.open": "열기",
  "history.csv": "CSV",
  "history.csvLabel": "학습 {id}의 지표를 CSV로 내려받기",
  "history.delete": "삭제",
  "history.confirm": "정말 삭제할까요?",
  "history.detail": "곡선",
  "history.pick": "목록에서 학습을 고르세요.",
  "history.testAccuracy": "에폭별 테스트 정확도",
  "history.lossSmoothed": "스텝별 손실 (평활)",
  "history.setting": "설정",
  "history.duration": "학습 시간",
  "history.finalTest": "최종 테스트 정확도",
  "history.finalTrain": "최종 학습 정확도",
  "config.epochs": "{n} 에폭",
  "config.batch": "배치 {n}",
};

export const dictionaries = { en, ko };
export const languages = { en: "English", ko: "한국어" };

const STORAGE_KEY = "deeplook.lang";
const listeners = new EventTarget();
let current = pickInitial();

function pickInitial() {
  const saved = safeGet(STORAGE_KEY);
  if (saved in dictionaries) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

function safeGet(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** The current language code. */
export function lang() {
  return current;
}

/** A UI string with {name} placeholders filled; an unknown key shows itself (easy to spot). */
export function t(key, params = {}) {
  const text = dictionaries[current][key] ?? dictionaries.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Whether a key exists (for optional, data-driven keys such as presets). */
export function has(key) {
  return key in dictionaries[current];
}

export function setLang(code) {
  if (!(code in dictionaries) || code === current) return;
  current = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // private mode: the choice lasts for this page only
  }
  apply(document);
  listeners.dispatchEvent(new Event("change"));
}

export function onLangChange(callback) {
  listeners.addEventListener("change", callback);
}

/** Fill static text: data-i18n="key" sets textContent; data-i18n-attr="attr:key;attr:key" sets attributes. */
export function apply(root) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of element.dataset.i18nAttr.split(";")) {
      const [attribute, key] = pair.split(":");
      element.setAttribute(attribute.trim(), t(key.trim()));
    }
  }
}
