/* The stepper page's controls. Every frame arrives computed (data.frames[k]: the visited box,
   each box's state as a base-36 index into its list data.states[i] of [grad text, mark]
   (forward mode: [tangent text, mark]),
   data.width characters per box, and the edges pushed through; data.eq[k] the equations as
   text; data.mf[k] each edge's MathML pieces, as indices into data.ms, escaped, for the
   template data.mt); this script
   only shows frame k. */
(function () {
  var root = document.getElementById("STEPGRAD_ID");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var d = JSON.parse(root.querySelector("script.sg-data").textContent);
  var byId = {};
  root.querySelectorAll("text[data-node]").forEach(function (t) {
    byId[t.getAttribute("data-node")] = t;
  });
  var grads = d.boxes.map(function (id) { return byId[id]; });
  var adds = Array.prototype.slice.call(root.querySelectorAll("text[data-edge]"));
  var slider = root.querySelector(".sg-slider"), eq = root.querySelector(".sg-eq"),
    math = root.querySelector(".sg-math"),
    count = root.querySelector(".sg-count"), k = 0;
  // what is on screen: at first the static page's last frame (show(0) redraws it all)
  var shown = [], lit = root.querySelector("g.sg-visited"), pushed = {}, edgeOf = {};
  adds.forEach(function (t) {
    var id = t.getAttribute("data-edge");
    edgeOf[id] = t;
    pushed[id] = 1;
  });
  function fill(fields) {  // slots are \x01i\x01 (mathml.edge_template)
    return d.mt.split("\u0001").map(function (piece, i) {
      return i % 2 ? d.ms[fields[parseInt(piece, 10)]] : piece;
    }).join("");
  }
  function push(t, on) {
    t.setAttribute("visibility", on ? "visible" : "hidden");
    t.parentNode.classList.toggle("sg-pushed", on);
  }
  function show(j, moved) {  // moved: bring the visited box into view
    k = Math.max(0, Math.min(d.n, j));
    var f = d.frames[k];
    eq.textContent = d.eq[k];
    if (math && d.mt) {  // each edge's MathML from the template (first: the page may move)
      math.innerHTML = k ? d.mf[k].map(fill).join("") : d.m0;
    }
    grads.forEach(function (t, i) {  // only the boxes whose state changes are touched
      var code = f.g.substr(i * d.width, d.width);
      if (!t || shown[i] === code) return;
      shown[i] = code;
      var state = d.states[i][parseInt(code, 36)], g = t.parentNode;
      t.textContent = state[0];
      ["pending", "partial", "final", "waiting", "known"].forEach(function (m) {
        g.classList.toggle("sg-" + m, state[1] === m);
      });
    });
    if (lit) lit.classList.remove("sg-visited");
    lit = f.v !== null && byId[f.v] ? byId[f.v].parentNode : null;
    if (lit) {
      lit.classList.add("sg-visited");
      if (moved) lit.scrollIntoView({block: "nearest", inline: "nearest"});
    }
    Object.keys(pushed).forEach(function (id) { push(edgeOf[id], false); });
    pushed = {};
    f.e.forEach(function (id) { if (edgeOf[id]) { push(edgeOf[id], true); pushed[id] = 1; } });
    count.textContent = "step " + k + " of " + d.n;
    slider.value = String(k);
  }
  function key(e) {
    var m = {ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: d.n}[e.key];
    if (m === undefined) return;
    e.preventDefault();
    show(m, true);
  }
  root.querySelector(".sg-prev").onclick = function () { show(k - 1, true); };
  root.querySelector(".sg-next").onclick = function () { show(k + 1, true); };
  root.querySelector(".sg-first").onclick = function () { show(0, true); };
  root.querySelector(".sg-last").onclick = function () { show(d.n, true); };
  slider.oninput = function () { show(parseInt(slider.value, 10), true); };
  if (root.parentNode === document.body) document.addEventListener("keydown", key);
  else root.addEventListener("keydown", key);
  show(0);
})();
