/* Guichet console: small progressive enhancements. Every page works without this file. */
"use strict";

// As the server reads an amount (console.parsing.cents_of): digits 0-9, a separator between
// every group of three or none, one or two decimals; "1 2 5" is no amount.
const AMOUNT = /^(?:[0-9]+|[0-9]{1,3}(?:[ \u00a0\u202f_][0-9]{3})+)(?:[.,]([0-9]{1,2}))?$/;

function cents(text) {
  // "12 345,67" -> 1234567, exactly (string arithmetic, never a float); null if unreadable.
  const cleaned = String(text).trim().replace(/^€/, "").replace(/€$/, "").trim();
  const match = AMOUNT.exec(cleaned);
  if (!match) return null;
  const whole = cleaned.split(/[.,]/)[0].replace(/[ \u00a0\u202f_]/g, "");
  return parseInt(whole, 10) * 100 + parseInt((match[1] || "0").padEnd(2, "0"), 10);
}

function unreadableAmount(form) {
  // The first amount typed that the server would refuse: said, not counted as 0 €.
  for (const field of form.querySelectorAll("[name=cout_total], [name=assiette], [name$=-montant]")) {
    if (field.value.trim() && cents(field.value) === null) return field.value.trim();
  }
  return null;
}

function months(form) {
  // As the server reads « Durée prévue » (console.web.submission._plan): empty is 24, else
  // ASCII digits only; null if unreadable (parseInt read « 12abc » as 12, which the server refuses).
  const typed = form.elements["duree_mois"] ? form.elements["duree_mois"].value.trim() : "";
  if (!typed) return 24;
  return /^[0-9]+$/.test(typed) ? Number(typed) : null;
}

function formProblem(form) {
  // What the server would refuse in the form before judging any rule, in its own words:
  // the live check must not show verdicts on a form that « Déposer » sends back.
  if (months(form) === null) return "« Durée prévue » : un nombre de mois";
  for (let row = 0; form.elements["ligne-" + row + "-financeur"]; row++) {
    const funder = form.elements["ligne-" + row + "-financeur"].value.trim();
    const amount = form.elements["ligne-" + row + "-montant"].value.trim();
    if (Boolean(funder) !== Boolean(amount)) return "ligne " + (row + 1) + " du plan : indiquez le financeur et le montant";
  }
  return null;
}

function inFormWords(detail, labels) {
  // The API names a field by its path (« body.plan.planned_duration_months — au plus 240 »):
  // the form names it as the person reads it, as the server's form does (first_problem).
  const text = String(detail);
  const at = text.indexOf(" — ");
  if (at < 0 || !text.startsWith("body")) return text;
  const path = text.slice(0, at).split(".");
  const label = labels[path[path.length - 1]];
  return label ? "« " + label + " » : " + text.slice(at + 3) : text.slice(at + 3);
}

const DOTATIONS = ["DETR", "DSIL", "DPV", "DSID"];

function requestFromForm(form) {
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  const basis = value("base_fiscale") || "HT";
  const lines = [];
  const taken = new Set();
  // As the server reads it: capitals without accents (« Région » is REGION).
  const code = (text) => text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toUpperCase();
  // The commune's own line, shown in French, is the plan's OWNER (console.web.labels).
  const owner = form.querySelector("[data-owner-words]");
  const ownerWords = owner ? code(owner.dataset.ownerWords) : null;
  for (let row = 0; form.elements["ligne-" + row + "-financeur"]; row++) {
    const typed = code(value("ligne-" + row + "-financeur"));
    const funder = typed === ownerWords ? owner.dataset.ownerCode : typed;
    const amount = value("ligne-" + row + "-montant");
    if (!funder && !amount) continue;
    const kind = value("ligne-" + row + "-nature");
    // As the server reads the form: a public line funded by a State dotation is that dotation.
    const dotation = value("ligne-" + row + "-dotation") || (kind === "public" && DOTATIONS.includes(funder) ? funder : null);
    let id = kind === "owner" && !taken.has("owner") ? "owner" : funder.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 30) || "ligne";
    let base = id, n = 2;
    while (taken.has(id)) id = base + "-" + n++;
    taken.add(id);
    lines.push({ line_id: id, funder: funder || "?", kind: kind, dotation: dotation,
                 requested_cents: cents(amount) ?? 0, basis: basis });
  }
  return {
    programme_id: value("dispositif"), insee: form.dataset.insee, project_title: value("titre") || "(sans titre)",
    prior_start_on: value("commencement_anticipe") || null,
    prior_start_kind: value("commencement_anticipe") ? value("nature_commencement") : null,
    plan: { total_cost_cents: cents(value("cout_total")) ?? 0, subsidisable_base_cents: cents(value("assiette")) ?? 0,
            basis: basis, lines: lines, owner_is_chef_de_file: form.elements["chef_de_file"].checked,
            planned_duration_months: months(form) },
  };
}

const OUTCOMES = { pass: ["success", "Respectée"], fail: ["error", "Non respectée"], not_applicable: ["neutral", "Sans objet"], attention: ["warning", "À vérifier"] };

function verdictTable(verdicts) {
  // As the macro verdict_table(compact=True): the source under each explanation.
  const box = document.createElement("div");
  box.className = "defilement";
  const table = document.createElement("table");
  table.className = "tableau compact";
  table.innerHTML = "<thead><tr><th scope='col'>Règle</th><th scope='col'>Verdict</th><th scope='col'>Explication</th></tr></thead>";
  box.appendChild(table);
  const body = table.createTBody();
  for (const v of verdicts) {
    const tr = body.insertRow();
    const [tone, word] = OUTCOMES[v.outcome] || ["neutral", v.outcome];
    tr.insertCell().textContent = v.label || v.rule;
    const badge = document.createElement("span");
    badge.className = "badge badge-" + tone;
    badge.textContent = word;
    tr.insertCell().appendChild(badge);
    const explanation = tr.insertCell();
    explanation.textContent = v.french || v.message;
    const source = document.createElement("div");
    source.className = "source";
    source.textContent = v.source;
    explanation.appendChild(source);
  }
  if (!verdicts.some((v) => v.stage === "financing")) {
    const note = document.createElement("p");
    note.className = "note";
    note.dataset.planPending = "";
    note.textContent = "Les règles du plan de financement s'affichent dès que son coût total est saisi.";
    box.appendChild(note);
  }
  return box;
}

function verdictSummary(verdicts) {
  // What a screen reader hears: the count per outcome, not the whole table again.
  const counts = {};
  for (const v of verdicts) counts[v.outcome] = (counts[v.outcome] || 0) + 1;
  const words = { fail: ["non respectée", "non respectées"], attention: ["à vérifier", "à vérifier"],
                  pass: ["respectée", "respectées"], not_applicable: ["sans objet", "sans objet"] };
  const said = Object.keys(words).filter((o) => counts[o])
    .map((o) => counts[o] + " " + words[o][counts[o] > 1 ? 1 : 0]);
  return said.length ? "Règles : " + said.join(", ") + "." : "";
}

function liveVerdicts(form) {
  const target = document.getElementById("verdicts");
  const summary = document.getElementById("verdicts-resume");
  let timer = null;
  let sequence = 0;
  const check = async () => {
    const mine = ++sequence;
    const unreadable = unreadableAmount(form);
    if (unreadable !== null) {
      const p = document.createElement("p");
      p.className = "note";
      p.dataset.montantIllisible = "";
      p.textContent = "Montant illisible : « " + unreadable + " ». Écrivez-le comme 12 500,00 "
        + "(chiffres, espace entre les milliers, deux décimales au plus).";
      target.replaceChildren(p);
      target.dataset.state = "incomplet";
      return;
    }
    const incomplete = formProblem(form);
    if (incomplete !== null) {
      const p = document.createElement("p");
      p.className = "note";
      p.dataset.formulaireIncomplet = "";
      p.textContent = "Plan incomplet : " + incomplete;
      target.replaceChildren(p);
      target.dataset.state = "incomplet";
      return;
    }
    let answer;
    try {
      answer = await fetch(form.dataset.verdicts, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
        body: JSON.stringify(requestFromForm(form)),
      });
    } catch (error) { return; }
    if (mine !== sequence) return;
    target.replaceChildren();
    if (answer.ok) {
      const verdicts = await answer.json();
      target.appendChild(verdictTable(verdicts));
      markWideTables();
      target.dataset.state = "ok";
      const sentence = verdictSummary(verdicts);
      if (summary && summary.textContent !== sentence) summary.textContent = sentence;
    } else {
      const problem = await answer.json().catch(() => ({}));
      const p = document.createElement("p");
      p.className = "note";
      const labels = JSON.parse(form.dataset.champs || "{}");
      p.textContent = "Plan incomplet : " + (problem.detail ? inFormWords(problem.detail, labels) : answer.status);
      target.appendChild(p);
      target.dataset.state = "incomplet";
    }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(check, 250); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  check();
}

function pollBatch(box) {
  if (box.dataset.finished === "oui") return;
  const bar = box.querySelector("progress");
  const counter = box.querySelector("[data-testid=progression]");
  const tick = async () => {
    const answer = await fetch(box.dataset.batch, { credentials: "same-origin" });
    if (answer.ok) {
      const batch = await answer.json();
      if (batch.finished) { window.location.reload(); return; }
      // The count moves as files answer; each file's result shows once all have.
      if (bar) bar.value = batch.done;
      if (counter) counter.textContent = batch.done + " / " + batch.total + " traité" + (batch.done > 1 ? "s" : "");
    }
    setTimeout(tick, 500);
  };
  setTimeout(tick, 300);
}

function followReport(box) {
  // Asks for the page again every 2 s, in the background, and reloads it once, when its report
  // is ready: a <meta refresh> reloaded it every 2 s under the reader (RGAA 13.1, WCAG 2.2.1),
  // a screen reader back at the top of the page each time. Only the bar moves meanwhile.
  const bar = box.querySelector("progress");
  const tick = async () => {
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const still = page.querySelector("[data-suivi-calcul] progress");
      if (!still) { window.location.reload(); return; }
      if (bar) bar.value = still.value;
    } catch (error) {
      // The console unreachable a moment: the next tick asks again.
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

function markWideTables() {
  // A table wider than its box is marked (guichet.css, .deborde): a phone shows no scrollbar
  // until one scrolls, and the amounts of a plan sat off the screen with nothing saying so.
  for (const box of document.querySelectorAll(".defilement")) {
    box.classList.toggle("deborde", box.scrollWidth > box.clientWidth + 1);
  }
}

window.addEventListener("resize", markWideTables);

document.addEventListener("DOMContentLoaded", () => {
  markWideTables();
  for (const all of document.querySelectorAll("[data-select-all]")) {
    all.addEventListener("change", () => {
      for (const box of all.form.querySelectorAll("input[name=dossier]")) box.checked = all.checked;
    });
  }
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      // The request id already makes a second click harmless; this only says it is on its way.
      for (const button of form.querySelectorAll("button[type=submit]")) button.setAttribute("aria-busy", "true");
    });
  }
  for (const input of document.querySelectorAll("input[type=file][data-max-bytes]")) {
    // Said before sending: past the limit the server can only answer with a bare 413 page.
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      const tooLarge = file && file.size > Number(input.dataset.maxBytes);
      input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
      if (tooLarge) input.reportValidity();
    });
  }
  const lot = document.getElementById("lot");
  // A refused batch comes back at /lots: the address bar shows the queue it was sent from
  // again, so that a reload reads the queue instead of sending the batch once more.
  if (lot && lot.dataset.adresse) window.history.replaceState(null, "", lot.dataset.adresse);
  if (lot) {
    lot.addEventListener("submit", (event) => {
      // One click sends up to 500 commands: say what and to how many before.
      // Its elements, not its descendants: a ticked file of an earlier page sits outside it.
      const count = Array.from(lot.elements).filter((e) => e.name === "dossier" && e.checked).length;
      const action = lot.querySelector("#action-lot");
      const what = action ? action.options[action.selectedIndex].text : "l'action";
      const most = Number(lot.dataset.maxFiles);
      if (most && count > most) {
        // Said before sending: « Tout sélectionner » also ticks the older files due soon.
        window.alert(`${most} dossiers au plus par lot : ${count} sont cochés, décochez-en ${count - most}.`);
        event.preventDefault();
        return;
      }
      // With nothing ticked there is nothing to confirm: the server says what is missing.
      if (count && !window.confirm(`« ${what} » sur ${count} dossier${count > 1 ? "s" : ""} ?`)) event.preventDefault();
    });
  }
  const depot = document.getElementById("depot");
  if (depot) liveVerdicts(depot);
  const batch = document.getElementById("lot-progression");
  if (batch) pollBatch(batch);
  const report = document.querySelector("[data-suivi-calcul]");
  if (report) followReport(report);
});
