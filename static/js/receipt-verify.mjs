// Checking a receipt (templates/reports/receipt_verify.html): a receipt file chosen here is read in the browser
// and its text put in the box, so the file itself is never uploaded. Without JavaScript, paste the text.
const group = document.querySelector("[data-receipt-file]");
const box = document.getElementById("id_receipt");

if (group && box) {
  group.hidden = false;
  group.classList.remove("govuk-!-display-none");
  group.querySelector("input[type=file]")?.addEventListener("change", async (event) => {
    const file = event.target.files && event.target.files[0];
    if (file && file.size <= 64 * 1024) {
      box.value = await file.text();
      box.dispatchEvent(new Event("input"));
    }
  });
}
