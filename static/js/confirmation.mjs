// The confirmation page (templates/reports/confirmation.html): copy the access code, or print or save the page.
// Without JavaScript the buttons stay hidden: the code can still be selected, written down or printed.
const actions = document.querySelector("[data-code-actions]");
const status = document.querySelector("[data-copy-status]");

if (actions && status) {
  actions.hidden = false;
  const copy = actions.querySelector("[data-copy-code]");
  const code = copy && document.getElementById(copy.dataset.copyCode);
  copy?.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code.textContent.trim());
      status.textContent = "Access code copied. Paste it somewhere safe, away from work.";
    } catch {
      status.textContent = "Your browser did not let us copy it. Select the words and copy them, or write them down.";
    }
  });
  actions.querySelector("[data-print-page]")?.addEventListener("click", () => window.print());
}
