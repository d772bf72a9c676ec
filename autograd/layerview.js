/* The layer view page's controls. Every frame arrives computed (data.frames[k]: each grad
   line's index into its texts data.states[i], the boxes still pending, and the boxes step k
   reads and writes; frame k's formula as MathML in the k-th child of .sg-math, as text in
   data.eq[k]); this script only shows frame k. */
(function () {
  var root = document.getElementById("STEPGRAD_ID");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var d = JSON.parse(root.querySelector("script.sg-data").textContent);
  var cells = {}, boxes = {};
  root.querySelectorAll("text[data-cell]").forEach(function (t) {
    cells[t.getAttribute("data-cell")] = t;
  });
  root.querySelectorAll("g[data-box]").forEach(function (g) {
    boxes[g.getAttribute("data-box")] = g;
  });
  var slider = root.querySelector(".sg-slider"), eq = root.querySelector(".sg-eq"),
    count = root.querySelector(".sg-count"), k = 0,
    maths = root.querySelectorAll(".sg-math > [data-k]");
  function show(j) {
    k = Math.max(0, Math.min(d.n, j));
    var f = d.frames[k];
    d.cells.forEach(function (id, i) {
      var t = cells[id];
      if (t) t.textContent = d.states[i][f.g[i]];
    });
    Object.keys(boxes).forEach(function (id) {
      var g = boxes[id];
      g.classList.toggle("sg-pending", f.p.indexOf(id) >= 0);
      g.classList.toggle("sg-read", f.r.indexOf(id) >= 0);
      g.classList.toggle("sg-visited", f.w.indexOf(id) >= 0);
    });
    eq.textContent = d.eq[k];
    maths.forEach(function (m, i) { m.hidden = i !== k; });
    count.textContent = "step " + k + " of " + d.n;
    slider.value = String(k);
  }
  function key(e) {
    var m = {ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: d.n}[e.key];
    if (m === undefined) return;
    e.preventDefault();
    show(m);
  }
  root.querySelector(".sg-prev").onclick = function () { show(k - 1); };
  root.querySelector(".sg-next").onclick = function () { show(k + 1); };
  root.querySelector(".sg-first").onclick = function () { show(0); };
  root.querySelector(".sg-last").onclick = function () { show(d.n); };
  slider.oninput = function () { show(parseInt(slider.value, 10)); };
  if (root.parentNode === document.body) document.addEventListener("keydown", key);
  else root.addEventListener("keydown", key);
  show(0);
})();
