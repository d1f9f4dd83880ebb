import { initAll } from "/static/vendor/govuk/govuk-frontend.min.js";

initAll();

// Radios that reveal a question under one choice (templates/govuk/field.html). GOV.UK Frontend's radios
// module marks each radio aria-expanded, which ARIA does not allow on a radio (axe's aria-allowed-attr), so
// these radios are not given to it: the question revealed sits straight after its radio, is announced in
// reading order, and the radio says which element it controls.
for (const group of document.querySelectorAll('[data-module="app-conditional-radios"]')) {
  // Its own radios only: a question revealed under one may have radios of its own.
  const inputs = [...group.querySelectorAll(':scope > .govuk-radios__item > input[type="radio"]')];
  const sync = () => {
    for (const input of inputs) {
      const target = input.dataset.ariaControls && document.getElementById(input.dataset.ariaControls);
      if (target) {
        input.setAttribute("aria-controls", target.id);
        target.classList.toggle("govuk-radios__conditional--hidden", !input.checked);
      }
    }
  };
  for (const input of inputs) input.addEventListener("change", sync);
  // Back restores the radios after the page has loaded.
  window.addEventListener("pageshow", sync);
  sync();
}
