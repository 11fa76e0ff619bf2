/* The critique of the marked step on the annotation page: its error type ("t" then the type's key), its
 * explanation (the rationale box, shown inside the marked step), and short notes on other steps ("c" on
 * the highlighted step). Extends workbench.js through window.prmwebWorkbench; without this script the
 * same fields stay below the steps and the form posts them alike. */
(function () {
  "use strict";

  var wb = window.prmwebWorkbench;
  var detail = document.getElementById("error-detail");
  if (!wb || !detail) {
    return;
  }
  var TYPE_WAIT_MS = 5000;
  var home = document.getElementById("error-detail-home");
  var title = document.getElementById("error-detail-title");
  var types = document.getElementById("error-types");
  var rationale = document.getElementById("id_rationale");
  var typeInputs = Array.prototype.slice.call(detail.querySelectorAll('input[name="error_type"]'));
  var noType = document.getElementById("id_error_type_none");
  var choosingType = false;
  var typeTimer = null;

  function titleText(value) {
    if (value === -1) {
      return "All steps correct: any remarks";
    }
    if (value === null) {
      return "The marked step: its type and why it is wrong";
    }
    return "Step " + (value + 1) + ", the earliest error: its type and why it is wrong";
  }

  function placeholderText(value) {
    if (value === -1) {
      return "Anything worth saying (optional)";
    }
    return value === null ? "Why is this step wrong?" : "Why is step " + (value + 1) + " wrong?";
  }

  function noteInput(index) {
    return document.getElementById("id_step_note_" + index);
  }

  function noteBox(index) {
    return document.getElementById("step-note-" + index);
  }

  function syncNotes() {
    wb.steps.forEach(function (step, index) {
      var input = noteInput(index);
      var box = noteBox(index);
      if (input && box) {
        var hasText = input.value.trim() !== "";
        box.classList.toggle("has-text", hasText);
        if (hasText) {
          box.open = true;
        }
      }
    });
  }

  /* the explanation and type go inside the marked step; with "all correct" or nothing marked, below */
  function place(value) {
    var target = value !== null && value >= 0 ? wb.steps[value] : home;
    if (target && detail.parentNode !== target) {
      target.appendChild(detail);
    }
    title.textContent = titleText(value);
    if (types) {
      types.hidden = value === -1;
      types.disabled = value === -1 || !wb.editable;  /* disabled: not posted, kept for a step marked again */
    }
    if (rationale && wb.editable) {
      rationale.placeholder = placeholderText(value);
    }
    syncNotes();
  }
  wb.onPaint(place);
  place(wb.selectedValue());

  wb.addCheck(function (value) {
    var input = value !== null && value >= 0 ? noteInput(value) : null;
    if (!input || !input.value.trim()) {
      return null;
    }
    noteBox(value).open = true;
    return {
      message: "Step " + (value + 1) + " is the step you marked as the earliest error: say why it is wrong in its " +
        "explanation, not in a note (or clear the note).",
      target: input
    };
  });

  /* ---- "t" then the type's key ---- */
  function typeTitle(input) {
    return input.parentNode.textContent.replace(/\s+[a-z]\s*$/, "").trim();
  }

  function stopChoosing() {
    choosingType = false;
    if (typeTimer !== null) {
      window.clearTimeout(typeTimer);
      typeTimer = null;
    }
    if (types) {
      types.classList.remove("is-choosing");
    }
  }

  function chooseType(key) {
    var input = typeInputs.filter(function (candidate) { return candidate.getAttribute("data-key") === key; })[0];
    if (!input) {
      wb.feedback("No error type has the key " + key + ".", true);
      return;
    }
    input.checked = true;
    wb.feedback("Error type: " + typeTitle(input));
    wb.changed();
  }

  wb.keys.t = function () {
    if (!wb.editable) {
      wb.feedback("This annotation is read-only.", true);
      return;
    }
    var value = wb.selectedValue();
    if (value === null || value < 0) {
      wb.feedback("Mark the earliest wrong step first: only it takes an error type.", true);
      return;
    }
    choosingType = true;
    types.classList.add("is-choosing");
    types.scrollIntoView({ block: "nearest" });
    wb.feedback("Error type: press its key (Backspace: none, Esc: cancel).");
    typeTimer = window.setTimeout(function () { stopChoosing(); wb.feedback(""); }, TYPE_WAIT_MS);
  };

  wb.takeKey = function (event) {
    if (!choosingType) {
      return false;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    stopChoosing();
    if (key === "Escape") {
      wb.feedback("");
    } else if (key === "Backspace" || key === "Delete") {
      noType.checked = true;
      wb.feedback("No error type given.");
      wb.changed();
    } else if (/^[a-z]$/.test(key)) {
      chooseType(key);
    } else {
      return false;  /* any other key acts as usual */
    }
    return true;
  };

  /* ---- "c": a note on the highlighted step ---- */
  wb.keys.c = function () {
    if (!wb.editable) {
      wb.feedback("This annotation is read-only.", true);
      return;
    }
    var index = wb.focusedIndex();
    if (index < 0) {
      wb.feedback("Highlight a step first (j/k, or g and its number); then c writes a note on it.", true);
      return;
    }
    if (index === wb.selectedValue()) {
      wb.feedback("Step " + (index + 1) + " is the marked step: r writes its explanation. Notes go on other steps.", true);
      return;
    }
    noteBox(index).open = true;
    noteInput(index).focus();
    wb.feedback("");
  };

  wb.steps.forEach(function (step, index) {
    var input = noteInput(index);
    if (!input) {
      return;
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();  /* Enter leaves the note; it never submits the form */
        input.blur();
      }
    });
    input.addEventListener("input", syncNotes);
  });
})();
