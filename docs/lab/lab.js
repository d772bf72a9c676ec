// The lab: this site's own autograd and nn, run in the page by Pyodide; Graphviz's layout by
// @viz-js/viz. Everything is served with the site: no request leaves it.
import { loadPyodide } from "./pyodide/pyodide.mjs";
import { instance as vizInstance } from "./viz/viz.js";

const $ = (id) => document.getElementById(id);
const started = performance.now();

async function boot() {
  const [pyodide, viz, bundle] = await Promise.all([
    loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href }),
    vizInstance(),
    fetch("./stepgrad.zip").then((r) => r.arrayBuffer()),
  ]);
  pyodide.unpackArchive(new Uint8Array(bundle), "zip", { extractDir: "/stepgrad" });
  pyodide.runPython("import sys; sys.path.insert(0, '/stepgrad')");
  const lab = pyodide.pyimport("lab");
  lab.use_viz((source) => viz.renderString(source, { format: "svg" }));
  return { pyodide, lab };
}

function showStepper(lab) {
  try {
    const [page, printed] = lab.run($("expression").value).toJs();
    $("stepper").srcdoc = page;
    $("output").textContent = printed;
    $("error").textContent = "";
  } catch (err) {
    $("error").textContent = String(err.message || err).trim().split("\n").slice(-1)[0];
  }
}

function drawBoundary(training) {
  const canvas = $("boundary"), ctx = canvas.getContext("2d"), n = 30;
  const scores = training.boundary(n).toJs();
  const w = canvas.width / n, h = canvas.height / n;
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    ctx.fillStyle = scores[j * n + i] > 0 ? "#ccfbf1" : "#fee2e2";
    ctx.fillRect(i * w, j * h, w + 1, h + 1);
  }
  for (const [x, y, t] of training.points().toJs()) {
    ctx.fillStyle = t > 0 ? "#0f766e" : "#b91c1c";
    ctx.beginPath();
    ctx.arc((x + 2) / 5 * canvas.width, (2 - y) / 3.5 * canvas.height, 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawCurve(losses) {
  const canvas = $("curve"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(...losses, 1e-12);
  ctx.strokeStyle = "#0f766e";
  ctx.beginPath();
  losses.forEach((l, k) => {
    const x = losses.length > 1 ? k / (losses.length - 1) * canvas.width : 0;
    const y = canvas.height - l / top * (canvas.height - 10);
    k ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
}

function trainer(lab) {
  let training = lab.Training(), losses = [], running = false;
  drawBoundary(training);
  const frame = () => {
    if (!running) return;
    const [epoch, loss, accuracy] = training.step().toJs();
    losses.push(loss);
    $("epoch").textContent = epoch;
    $("loss").textContent = loss.toPrecision(4);
    $("loss").dataset.value = loss;  // the engine's number in full
    $("accuracy").textContent = accuracy.toFixed(2);
    drawBoundary(training);
    drawCurve(losses);
    requestAnimationFrame(frame);
  };
  $("train").onclick = () => {
    running = !running;
    $("train").textContent = running ? "Pause" : "Train";
    if (running) requestAnimationFrame(frame);
  };
  $("reset").onclick = () => {
    training.destroy();
    training = lab.Training();
    losses = [];
    $("epoch").textContent = "0";
    $("loss").textContent = $("accuracy").textContent = "–";
    drawCurve([]);
    drawBoundary(training);
  };
}

boot().then(({ lab }) => {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  $("status").textContent = `engine ready in ${seconds} s`;
  $("status").dataset.ready = "true";
  let pending = null;
  $("run").onclick = () => showStepper(lab);
  $("expression").addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => showStepper(lab), 300);
  });
  for (const id of ["run", "train", "reset"]) $(id).disabled = false;
  trainer(lab);
  showStepper(lab);
}, (err) => {
  $("status").textContent = `the engine did not load: ${err}`;
});
