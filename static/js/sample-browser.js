// The sample browser (issue 13) on the result and pack pages. The page works without it: every
// sample has a plain <audio> player and download links. With it:
//  - one transport: starting any player stops the others (the song and a sample conformed to it
//    are a pair and play together);
//  - a waveform with a playhead under each sample; click it to seek;
//  - keys: space play/pause, ↑/↓ or j/k move between samples, s saves to the current pack;
//  - "Play with the song": the sample, rendered in the song's tempo and key on the server, loops
//    over the song's excerpt locked to its beat grid, with a level slider; when the analysis found
//    the bar, every time round of the loop is counted from the song's first downbeat (its "1"), so
//    the loop starts on a downbeat and a loop of whole bars stays on them;
//  - a card dragged out of the browser drops its file (Chromium's DownloadURL).
(() => {
  "use strict";

  const POLL_MS = 700;
  const DRIFT_S = 0.04; // re-align the sample when it strays this far from the grid

  let current = null; // the selected card
  let pair = null; // {card, song, render, grid, state} while a sample plays with the song

  const cards = () => Array.from(document.querySelectorAll("[data-sample]"));
  const pageData = (name) => {
    const holder = document.querySelector(`[data-${name}]`);
    return holder ? holder.getAttribute(`data-${name}`) : "";
  };
  const playerOf = (card) => card.querySelector("audio:not([data-render])");
  // The song a sample plays with: a row's own (a pack's rows each have theirs; data-song-audio),
  // found on the page or added to it hidden, else the song at the head of the result page.
  const songPlayer = (card) => {
    const url = card && card.dataset.songAudio;
    if (!url) return document.querySelector(".track-head audio");
    const players = Array.from(document.querySelectorAll("audio[data-song-player]"));
    let player = players.find((audio) => audio.getAttribute("src") === url);
    if (!player) {
      player = document.createElement("audio");
      player.dataset.songPlayer = "";
      player.preload = "none";
      player.hidden = true;
      player.src = url;
      document.body.appendChild(player);
    }
    return player;
  };
  const isPlaying = (media) => media && !media.paused && !media.ended;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (_) {
      return "";
    }
  }

  // --- One transport ---------------------------------------------------------------------------
  // "play" does not bubble, but it can be caught on the way down.
  document.addEventListener(
    "play",
    (event) => {
      const started = event.target;
      if (!(started instanceof HTMLMediaElement)) return;
      const group = started.dataset.pair || "";
      document.querySelectorAll("audio, video").forEach((media) => {
        if (media !== started && !(group && media.dataset.pair === group)) media.pause();
      });
      if (pair && !group) endPair(); // something else started: the pair is over
      const card = started.closest("[data-sample]");
      if (card) select(card, { focus: false });
    },
    true,
  );

  // --- Selection and keys ------------------------------------------------------------------------
  function select(card, { focus = true } = {}) {
    if (current && current !== card) current.classList.remove("is-current");
    current = card;
    card.classList.add("is-current");
    if (focus) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function move(step) {
    const list = cards();
    if (!list.length) return;
    const wasPlaying = list.some((card) => isPlaying(playerOf(card))) || (pair && isPlaying(pair.song));
    const index = current ? list.indexOf(current) : -1;
    const next = list[Math.min(list.length - 1, Math.max(0, index + step))];
    select(next);
    if (wasPlaying && next !== (pair && pair.card)) playerOf(next).play().catch(() => {});
  }

  function toggle() {
    const card = current || cards()[0];
    if (!card) return;
    select(card, { focus: false });
    if (pair && pair.card === card) {
      if (isPlaying(pair.song)) pair.song.pause();
      else pair.song.play().catch(() => {});
      return;
    }
    const player = playerOf(card);
    if (isPlaying(player)) player.pause();
    else player.play().catch(() => {});
  }

  function announce(card, text) {
    const status = card.querySelector("[data-conform-status]") || card.querySelector(".browser-note");
    if (status) {
      status.textContent = text;
      return;
    }
    const note = document.createElement("p");
    note.className = "small browser-note";
    note.setAttribute("role", "status");
    note.textContent = text;
    card.appendChild(note);
  }

  function save() {
    const card = current;
    if (!card) return;
    if (card.hasAttribute("data-in-pack")) {
      announce(card, "Already in this pack.");
      return;
    }
    const form = card.querySelector("form.save-form");
    if (!form) return;
    const field = form.querySelector("input[name=pack_name]");
    if (!field.value) field.value = pageData("current-pack");
    if (!field.value) {
      field.focus(); // no pack yet: the user names one
      return;
    }
    form.requestSubmit();
  }

  // The pack a save went to becomes the current one.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form.save-form");
    const holder = document.querySelector("[data-current-pack]");
    const field = form && form.querySelector("input[name=pack_name]");
    if (holder && field && field.value) holder.dataset.currentPack = field.value;
  });

  // Typing in a field is never a shortcut. Space on a button, a link or a player is theirs (it
  // presses or toggles them); the other keys still move and save from there.
  const TYPING = "textarea, select, [contenteditable], input:not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button])";
  const PRESSABLE = "button, a, audio, input";

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest(TYPING)) return;
    if (!cards().length) return;
    const key = event.key;
    if (key === " " || key === "Spacebar") {
      if (target.closest(PRESSABLE)) return;
      toggle();
    }
    else if (key === "ArrowDown" || key === "j") move(1);
    else if (key === "ArrowUp" || key === "k") move(-1);
    else if (key === "s") save();
    else return;
    event.preventDefault();
  });

  // Tabbing into a card's controls makes it the current sample too.
  document.addEventListener("focusin", (event) => {
    const card = event.target.closest && event.target.closest("[data-sample]");
    if (card && card !== current) select(card, { focus: false });
  });
  document.addEventListener("click", (event) => {
    const card = event.target.closest("[data-sample]");
    if (card) select(card, { focus: !event.target.closest("input, button, a, select, audio") });
  });

  // --- Drag a card out --------------------------------------------------------------------------
  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest("[data-drag-url]");
    if (!card || !event.dataTransfer) return;
    // "mime:name:path" (names and MIME types here hold no colon).
    const value = card.dataset.dragUrl;
    const first = value.indexOf(":");
    const second = value.indexOf(":", first + 1);
    if (first < 0 || second < 0) return;
    const [mime, name, path] = [value.slice(0, first), value.slice(first + 1, second), value.slice(second + 1)];
    event.dataTransfer.setData("DownloadURL", `${mime}:${name}:${new URL(path, location.href).href}`);
    event.dataTransfer.setData("text/uri-list", new URL(path, location.href).href);
    event.dataTransfer.effectAllowed = "copy";
  });

  // --- Waveform and playhead ---------------------------------------------------------------------
  function media(card) {
    return pair && pair.card === card && pair.render ? pair.render : playerOf(card);
  }

  function buildWave(card) {
    const player = playerOf(card);
    if (!player) return;
    const wave = document.createElement("div");
    wave.className = "wave";
    wave.setAttribute("role", "slider");
    wave.setAttribute("aria-label", "Seek");
    wave.setAttribute("aria-valuemin", "0");
    wave.setAttribute("aria-valuemax", "100");
    wave.setAttribute("aria-valuenow", "0");
    // Freesound's waveform picture of the sound (the card's, or the pack row's data-waveform) goes
    // inside, under the played shade and the playhead; without one, a plain bar.
    const image = card.querySelector("img.waveform");
    if (!image && card.classList.contains("sound-row")) return; // a row without a picture: no bar
    if (image) {
      image.parentNode.insertBefore(wave, image);
      wave.appendChild(image);
    } else {
      player.parentNode.insertBefore(wave, player);
      if (card.dataset.waveform) {
        const picture = document.createElement("img");
        picture.src = card.dataset.waveform;
        picture.alt = "";
        picture.className = "waveform";
        wave.appendChild(picture);
      } else {
        wave.classList.add("wave-plain");
      }
    }
    const played = document.createElement("span");
    played.className = "wave-played";
    const head = document.createElement("span");
    head.className = "wave-head";
    wave.append(played, head);

    const draw = () => {
      const active = media(card);
      const fraction = active && active.duration ? Math.min(1, active.currentTime / active.duration) : 0;
      played.style.width = `${fraction * 100}%`;
      head.style.left = `${fraction * 100}%`;
      wave.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    };
    card.waveDraw = draw;
    player.addEventListener("timeupdate", draw);
    const tick = () => {
      draw();
      if (isPlaying(media(card))) requestAnimationFrame(tick);
    };
    player.addEventListener("play", () => requestAnimationFrame(tick));
    wave.addEventListener("click", (event) => {
      const box = wave.getBoundingClientRect();
      const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      if (pair && pair.card === card) return; // locked to the song's grid
      const seek = () => {
        player.currentTime = fraction * player.duration;
        draw();
      };
      if (player.duration) seek();
      else {
        player.preload = "auto";
        player.addEventListener("loadedmetadata", seek, { once: true });
        player.load();
      }
      if (player.paused) player.play().catch(() => {});
    });
  }

  // --- Play with the song --------------------------------------------------------------------------
  function beatPosition(beats, tempo, time) {
    // Song time → beats since the first beat, interpolated between measured beats.
    if (!beats.length) return tempo ? (time * tempo) / 60 : null;
    if (time < beats[0]) return (time - beats[0]) / (60 / (tempo || 120));
    let lo = 0;
    let hi = beats.length - 1;
    if (time >= beats[hi]) {
      const step = hi > 0 ? beats[hi] - beats[hi - 1] : 60 / tempo;
      return hi + (time - beats[hi]) / step;
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (beats[mid] <= time) lo = mid;
      else hi = mid;
    }
    return lo + (time - beats[lo]) / (beats[lo + 1] - beats[lo]);
  }

  function beatTime(beats, tempo, index) {
    // Beats since the first beat → song time: the inverse of beatPosition.
    if (!beats.length) return tempo ? (index * 60) / tempo : null;
    const last = beats.length - 1;
    if (index < 0) return beats[0] + index * (60 / (tempo || 120));
    const lastStep = last > 0 ? beats[last] - beats[last - 1] : 60 / (tempo || 120);
    if (index >= last) return beats[last] + (index - last) * lastStep;
    const lo = Math.floor(index);
    return beats[lo] + (index - lo) * (beats[lo + 1] - beats[lo]);
  }

  function loopOrigin(grid) {
    // The beat every time round of a loop is counted from: the first downbeat when the bar is
    // known, else the grid's first beat (0).
    const downbeats = grid.downbeats || [];
    if (!downbeats.length) return 0;
    const index = beatPosition(grid.beats || [], grid.tempo, downbeats[0]);
    return index === null ? 0 : Math.round(index);
  }

  function noteLoopStart(render, time) {
    // The song time at which this time round of the loop began, for anyone reading the page.
    if (time === null) return;
    const value = time.toFixed(3);
    if (render.dataset.loopStart !== value) render.dataset.loopStart = value;
  }

  // One frame loop per pair, running while the song plays.
  function startSync() {
    if (!pair || pair.ticking) return;
    pair.ticking = true;
    requestAnimationFrame(syncPair);
  }

  function syncPair() {
    if (!pair || !pair.render) return;
    const { song, render, grid, state } = pair;
    if (!isPlaying(song)) {
      render.pause();
      pair.ticking = false;
      return;
    }
    const beats = grid.beats || [];
    const index = beatPosition(beats, grid.tempo, song.currentTime);
    // Beats since the loops' origin (the first "1"); before it the sample waits.
    const position = index === null ? null : index - pair.origin;
    const duration = render.duration || 0;
    if (position === null || position < 0 || !duration) {
      render.pause();
    } else {
      // The loop lasts `loop_beats` beats at its target tempo: that many song beats, or half or
      // twice as many when it plays in double or half time. A one-shot fires on every bar.
      const songBeats = state.loop_beats
        ? state.loop_beats * ((grid.tempo || state.target_bpm) / (state.target_bpm || grid.tempo))
        : grid.beats_per_bar || 4;
      const cycle = ((position % songBeats) + songBeats) % songBeats;
      noteLoopStart(render, beatTime(beats, grid.tempo, position - cycle + pair.origin));
      const wanted = state.loop_beats ? (cycle / songBeats) * duration : (cycle * 60) / (grid.tempo || 120);
      if (wanted < duration) {
        if (Math.abs(render.currentTime - wanted) > DRIFT_S) render.currentTime = wanted;
        if (render.paused) render.play().catch(() => {});
      } else if (!render.paused) {
        render.pause();
      }
    }
    if (pair.card.waveDraw) pair.card.waveDraw();
    requestAnimationFrame(syncPair);
  }

  function endPair() {
    if (!pair) return;
    const { card, song, render } = pair;
    pair = null;
    if (render) render.pause();
    delete song.dataset.pair;
    const button = card.querySelector("[data-play-with-song]");
    if (button) {
      button.setAttribute("aria-pressed", "false");
      button.textContent = "Play with the song";
    }
    card.classList.remove("with-song-on");
  }

  function status(card, text, kind) {
    const line = card.querySelector("[data-conform-status]");
    line.textContent = text;
    line.dataset.kind = kind || "";
  }

  async function conformState(card, method) {
    const response = await fetch(card.dataset.conformUrl, {
      method,
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      credentials: "same-origin",
    });
    // 429: too many renders asked for, or the quota used up; the answer says which, and when to retry.
    if (!response.ok && response.status !== 429) throw new Error(`the server answered ${response.status}`);
    return response.json();
  }

  async function playWithSong(card, button) {
    if (pair && pair.card === card) {
      pair.song.pause();
      endPair();
      return;
    }
    const song = songPlayer(card);
    if (!song) return;
    endPair();
    button.disabled = true;
    const started = Date.now();
    let state;
    try {
      state = await conformState(card, "POST");
      while (state.status === "pending" || state.status === "running") {
        const waited = Math.round((Date.now() - started) / 1000);
        status(card, `${state.label}… ${waited} s — ${state.description}`, "busy");
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        state = await conformState(card, "GET");
      }
    } catch (error) {
      status(card, `Could not reach the server (${error.message}); try again.`, "error");
      button.disabled = false;
      return;
    }
    button.disabled = false;
    if (state.status !== "done") {
      status(
        card,
        state.disabled || state.refused || `The render failed: ${state.error || "no reason given"}`,
        "error",
      );
      return;
    }
    const grid = JSON.parse(card.dataset.songGrid || pageData("song-grid") || "{}");
    let render = card.querySelector("audio[data-render]");
    if (!render) {
      render = document.createElement("audio");
      render.dataset.render = "";
      render.preload = "auto";
      render.hidden = true;
      card.appendChild(render);
    }
    if (render.getAttribute("src") !== state.url) render.src = state.url;
    render.loop = Boolean(state.loop_beats);
    const mix = card.querySelector("[data-mix]");
    render.volume = mix ? Number(mix.value) / 100 : 0.8;
    const group = `song-${card.id}`;
    render.dataset.pair = group;
    song.dataset.pair = group;
    const origin = loopOrigin(grid);
    pair = { card, song, render, grid, state, origin };
    const originTime = beatTime(grid.beats || [], grid.tempo, origin);
    if (originTime !== null) render.dataset.loopOrigin = originTime.toFixed(3);
    else delete render.dataset.loopOrigin;
    delete render.dataset.loopStart;
    card.classList.add("with-song-on");
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Stop";
    const gridWords = grid.measured ? "the song's beats" : `a grid from ${Math.round(grid.tempo || 0)} BPM`;
    const barWords = (grid.downbeats || []).length ? ", starting on the “1”" : "";
    status(card, `${capitalise(state.description)} · locked to ${gridWords}${barWords}`, "done");
    select(card, { focus: false });
    playerOf(card).pause();
    try {
      await song.play();
    } catch (error) {
      status(card, `The song could not be played (${error.message}).`, "error");
      endPair();
      return;
    }
    startSync();
  }

  function capitalise(text) {
    return text ? text[0].toUpperCase() + text.slice(1) : text;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-play-with-song]");
    if (button) playWithSong(button.closest("[data-sample]"), button);
  });
  document.addEventListener("input", (event) => {
    const mix = event.target.closest("[data-mix]");
    if (mix && pair && pair.card === mix.closest("[data-sample]")) pair.render.volume = Number(mix.value) / 100;
  });
  // The song's own controls drive the pair: pausing the song pauses the sample; playing resumes it.
  document.addEventListener(
    "play",
    (event) => {
      if (pair && event.target === pair.song) startSync();
    },
    true,
  );

  // --- Rows: a play button in place of the player's controls ---------------------------------------
  function rowButton(card, player) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "row-play";
    button.dataset.rowPlay = "";
    button.setAttribute("aria-label", player.getAttribute("aria-label") || "Play");
    button.setAttribute("aria-pressed", "false");
    button.textContent = "▶";
    player.controls = false;
    player.parentNode.insertBefore(button, player);
    const show = () => {
      const on = isPlaying(player);
      button.textContent = on ? "❚❚" : "▶";
      button.setAttribute("aria-pressed", on ? "true" : "false");
    };
    player.addEventListener("play", show);
    player.addEventListener("pause", show);
    player.addEventListener("ended", show);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-row-play]");
    if (!button) return;
    const card = button.closest("[data-sample]");
    select(card, { focus: false });
    const player = playerOf(card);
    if (isPlaying(player)) player.pause();
    else player.play().catch(() => {});
  });

  // --- Set up (again after htmx swaps the samples panel in) --------------------------------------
  function setUp() {
    document.querySelectorAll("[data-browser-help]").forEach((help) => (help.hidden = false));
    // Each sample's tools (samples/includes/sample_tools.html) make the row or card around them a
    // sample of the browser, with their data- attributes: the templates keep their own markup.
    document.querySelectorAll("[data-sample-tools]").forEach((tools) => {
      const card = tools.closest("li");
      if (!card || card.hasAttribute("data-sample")) return;
      card.setAttribute("data-sample", "");
      for (const name of ["loop", "dragUrl", "conformUrl", "waveform", "inPack", "songAudio", "songGrid"]) {
        if (tools.dataset[name] !== undefined) card.dataset[name] = tools.dataset[name];
      }
      card.draggable = true;
    });
    const headSong = document.querySelector(".track-head audio");
    cards().forEach((card) => {
      if (card.dataset.browserReady) return;
      card.dataset.browserReady = "1";
      card.tabIndex = -1;
      const player = playerOf(card);
      if (player && card.dataset.loop) player.loop = true;
      const withSong = card.querySelector("[data-with-song]");
      if (withSong && (headSong || card.dataset.songAudio)) withSong.hidden = false;
      if (player && card.classList.contains("sound-row")) rowButton(card, player);
      buildWave(card);
    });
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", () => {
    if (pair && !document.contains(pair.card)) endPair();
    if (current && !document.contains(current)) current = null;
    setUp();
  });
  if (document.readyState !== "loading") setUp();
})();
