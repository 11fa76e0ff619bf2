/* Keys of the annotation page beyond the core (workbench.js): any step in at most three keys, flags,
 * guidelines, and going back to my previous item or on to the queue.
 * Numbers: digits typed within DIGIT_PAUSE_MS of each other make one number ("1" "2" marks step 12); the
 * number is taken at once when no further digit could name a step (on a 15-step solution "2" is step 2
 * and "1" "2" is step 12 without a wait), after the pause, or on Enter. "g" then digits goes to a step
 * without marking it. A lone "0" marks all steps correct. */
(function () {
  "use strict";

  var wb = window.prmwebWorkbench;
  if (!wb) {
    return;
  }
  var DIGIT_PAUSE_MS = 800;
  var GOTO_WAIT_MS = 3000;
  var root = wb.root;
  var digits = "";
  var gotoMode = false;
  var timer = null;
  var markFocused = wb.keys.Enter;
  var allCorrect = wb.keys["0"];

  function clearTimer() {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
  }

  function reset() {
    clearTimer();
    digits = "";
    gotoMode = false;
  }

  function stepsText(count) {
    return count === 1 ? "1 step" : count + " steps";
  }

  function commit() {
    var number = parseInt(digits, 10);
    var going = gotoMode;
    reset();
    if (isNaN(number)) {
      wb.feedback("");
      return;
    }
    if (number < 1 || number > wb.numSteps) {
      wb.feedback("There is no step " + number + ": this solution has " + stepsText(wb.numSteps) + ".", true);
      return;
    }
    if (going) {
      wb.goToStep(number - 1);
      wb.feedback("At step " + number + ": Enter marks it.");
      return;
    }
    if (!wb.editable) {
      wb.feedback("This annotation is read-only.", true);
      return;
    }
    wb.mark(number - 1, true);
    wb.feedback("");
  }

  function typed(digit) {
    if (digits === "" && !gotoMode && digit === "0") {
      allCorrect();
      wb.feedback("");
      return;
    }
    digits += digit;
    clearTimer();
    wb.feedback((gotoMode ? "Go to step " : "Step ") + digits + "…");
    if (parseInt(digits, 10) * 10 > wb.numSteps) {
      commit();
    } else {
      timer = window.setTimeout(commit, DIGIT_PAUSE_MS);
    }
  }

  wb.beforeKey = function (key) {
    if (digits !== "" && !/^[0-9]$/.test(key) && key !== "Enter" && key !== "Escape") {
      commit();
    }
  };

  "0123456789".split("").forEach(function (digit) {
    wb.keys[digit] = function () { typed(digit); };
  });

  wb.keys.g = function () {
    reset();
    gotoMode = true;
    wb.feedback("Go to step …");
    timer = window.setTimeout(function () { reset(); wb.feedback(""); }, GOTO_WAIT_MS);
  };

  wb.keys.Enter = function () {
    if (digits !== "") {
      commit();
    } else {
      markFocused();
    }
  };

  wb.keys.Escape = function () {
    if (digits !== "" || gotoMode) {
      reset();
      wb.feedback("");
    }
  };

  /* ---- flags ---- */
  function toggleFlag(id) {
    var box = document.getElementById(id);
    if (!box || box.disabled) {
      wb.feedback("This annotation is read-only.", true);
      return;
    }
    box.checked = !box.checked;
    var label = box.parentNode.textContent.replace(/\s+[a-z]\s*$/, "").trim();
    wb.feedback("Flag " + (box.checked ? "on: " : "off: ") + label);
    wb.changed();
  }
  wb.keys.a = function () { toggleFlag("id_flag_ambiguous"); };
  wb.keys.w = function () { toggleFlag("id_flag_reference_wrong"); };
  wb.keys.u = function () { toggleFlag("id_flag_unsure"); };

  wb.keys.h = function () {
    var guidelines = document.getElementById("guidelines");
    if (!guidelines) {
      wb.feedback("This dataset has no guidelines.", true);
      return;
    }
    guidelines.open = !guidelines.open;
    if (guidelines.open) {
      guidelines.scrollIntoView({ block: "nearest" });
    }
  };

  /* ---- back to my previous item, on to the queue ---- */
  wb.keys.b = function () {
    var url = root.getAttribute("data-previous-url");
    if (!url) {
      wb.feedback("No earlier annotation of yours in this dataset.", true);
      return;
    }
    window.location.assign(url);
  };

  wb.keys.n = function () {
    if (root.getAttribute("data-mode") === "new" && wb.editable) {
      wb.feedback("This is your current item in the queue.");
      return;
    }
    window.location.assign(root.getAttribute("data-queue-url"));
  };
})();
