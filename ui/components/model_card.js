// One model's card, rendered in the browser from its face (ui/components/card_face.py), which the grid holds
// (model_grid.js): no NiceGUI element at all. Taps go back to the server as the grid's `action` event with the
// card's uid and the action's name; the server decides (ui/components/model_card.py). In select mode the card
// shows a box before its name; ticking it tells the grid (its `pick` event).
//
// The card is Quasar's card by its classes, not its component: one component less for each of 1,000 cards.
//
// A card far below the screen shows its words (name, status, speed, details) but not yet its controls: the
// buttons, the menu and the box are built once the card comes within a screen or so of view (one shared
// IntersectionObserver). Mounting those Quasar components for every card up front was most of what a page of
// hundreds of cards cost the browser (docs/architecture.md, "The models page").
import { reactive } from "vue";

// From Tailwind's `sm` (640 px) up there is room for the details without asking; one listener for every card.
const screen = reactive({ wide: false });
const wide = window.matchMedia("(min-width: 640px)");
screen.wide = wide.matches;
wide.addEventListener("change", (event) => (screen.wide = event.matches));

// One clock for every card's idle countdown: a card reads it only while it counts down, so the others do not
// re-render each second, and the server sends nothing while the countdown runs.
const clock = reactive({ now: Date.now() });
setInterval(() => (clock.now = Date.now()), 1000);

// `4 min 32 s` until an idle model unloads (its face's `unload_at`, milliseconds since the epoch).
function unloadsIn(at) {
  const left = Math.max(0, Math.round((at - clock.now) / 1000));
  const text = left < 60 ? `${left} s` : left < 3600 ? `${Math.floor(left / 60)} min ${left % 60} s`
    : `${Math.floor(left / 3600)} h ${Math.floor((left % 3600) / 60)} min`;
  return `idle · unloads in ${text}`;
}

// The look of a card's words, in one stylesheet instead of Tailwind classes on each of its elements: NiceGUI's
// Tailwind runtime reads the classes of every element that has any (`querySelectorAll("[class]")`) on each change
// of the page's classes or nodes, so with 1,000 cards every class attribute a card carries slowed each keystroke
// and each status change (docs/architecture.md, "The models page"). Controls, built near the screen only, keep
// their Tailwind classes.
document.head.append(Object.assign(document.createElement("style"), { textContent: `
  .model-card { width: 100%; }
  .model-card [data-part=head] { display: flex; align-items: center; flex-wrap: nowrap; gap: 0.25rem;
    padding: 0.25rem 0.5rem; }
  .model-card [data-part=toggle] { min-width: 0; flex-grow: 1; min-height: 44px; display: flex;
    flex-direction: column; justify-content: center; cursor: pointer; border-radius: 0.25rem; }
  .model-card [data-part=toggle]:focus-visible { outline: 1px solid; }
  .model-card [data-part=name] { font-size: 1rem; line-height: 1.25; font-weight: 700; overflow: hidden;
    display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow-wrap: anywhere; }
  .model-card [data-part=status] { display: flex; align-items: center; flex-wrap: nowrap; gap: 0.5rem;
    font-size: 0.875rem; line-height: 1.25rem; }
  .model-card [data-part=speed] { font-weight: 700; white-space: nowrap; }
  .model-card [data-part=family] { opacity: 0.7; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .model-card [data-part^=room] { min-height: 44px; flex-shrink: 0; min-width: 140px; }
  .model-card [data-part=room-menu] { min-width: 44px; }
  .model-card [data-part=lines] { padding: 0 0.5rem 0.5rem; font-size: 0.875rem; line-height: 1.25rem;
    display: flex; flex-direction: column; }
  .model-card [data-part=lines] > div { overflow-wrap: break-word; }
  .model-card [data-part=file] { word-break: break-all; }
  .model-card [data-dim] { opacity: 0.8; }
` }));

const waiting = new WeakMap(); // a card's root element -> the card, until it comes near the screen
const nearby = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const card = waiting.get(entry.target);
      nearby.unobserve(entry.target);
      waiting.delete(entry.target);
      if (card) card.near = true;
    }
  },
  { rootMargin: "100% 0px" },
);

export default {
  template: `
    <div class="q-card model-card" :class="$q.dark.isActive ? 'q-card--dark q-dark' : ''" :data-status="face.status" :data-uid="uid"
            style="content-visibility: auto; contain-intrinsic-size: auto 64px">
      <div data-part="head">
        <q-checkbox v-if="near && deck.selecting" :model-value="deck.selected.has(uid)"
                    @update:model-value="(on) => deck.pick(uid, on)" :aria-label="'Select ' + face.name"
                    class="min-h-[48px] min-w-[48px]"></q-checkbox>
        <div role="button" tabindex="0" data-part="toggle" :aria-expanded="String(open)" @click="toggle"
             @keydown.enter.prevent="toggle" @keydown.space.prevent="toggle">
          <div data-part="name">{{ face.name }}</div>
          <div data-part="status">
            <span class="q-badge text-sm px-2" :class="badge">{{ face.status }}</span>
            <span v-if="face.speed" data-part="speed">{{ face.speed }}</span>
            <span v-else data-part="family">{{ face.family }}</span>
          </div>
        </div>
        <div v-if="!near" :data-part="changes ? 'room' : 'room-menu'"></div>
        <q-btn v-if="near && changes" unelevated no-caps class="min-h-[44px] min-w-[92px] shrink-0" :color="primary.color"
               :disable="primary.disable" @click="deck.act(uid, primary.action)">
          <q-spinner v-if="face.busy" size="1.1em" class="mr-1"></q-spinner>
          <q-icon v-else :name="primary.icon" size="1.3em" class="mr-1"></q-icon>
          <span>{{ primary.label }}</span>
        </q-btn>
        <q-btn v-if="near" flat round icon="more_vert" aria-label="Model actions" class="min-h-[44px] min-w-[44px] shrink-0">
          <q-menu auto-close>
            <q-list>
              <template v-for="entry in entries" :key="entry.action">
                <q-separator v-if="entry.separated"></q-separator>
                <q-item clickable class="min-h-[48px]" :class="entry.danger ? 'text-negative' : ''"
                        :data-action="entry.action" @click="deck.act(uid, entry.action)">
                  <q-item-section>{{ entry.label }}</q-item-section>
                </q-item>
              </template>
            </q-list>
          </q-menu>
        </q-btn>
      </div>
      <div v-if="lines.length || open" data-part="lines">
        <div v-for="line in lines" :key="line.kind" :id="line.kind + '-' + uid" :class="line.look">{{ line.text }}</div>
        <template v-if="open">
          <div v-if="face.speed" data-dim>{{ face.family }}</div>
          <div data-part="file">{{ face.file }}</div>
          <div>{{ face.settings }}</div>
          <div v-if="face.memory">{{ face.memory }}</div>
          <div v-if="face.placement">{{ face.placement }}</div>
          <div v-if="face.fit" data-dim>{{ face.fit }}</div>
        </template>
      </div>
    </div>`,
  props: { uid: String },
  // From the grid: every card's face, the menu's entries, whether the person may start, stop and change models
  // (admins), select mode and its ticked cards, and where a tap goes.
  inject: ["deck"],
  mounted() {
    waiting.set(this.$el, this);
    nearby.observe(this.$el);
  },
  beforeUnmount() {
    nearby.unobserve(this.$el);
  },
  methods: {
    toggle() {
      this.toggled = !this.open;
    },
  },
  data() {
    // toggled: the person's own choice, once they tapped; until then the screen's width decides
    return { toggled: null, near: false };
  },
  computed: {
    face() {
      return this.deck.faces[this.uid]; // read per card: a changed face re-renders its card alone
    },
    badge() {
      return "bg-" + this.face.badge[0] + " text-" + this.face.badge[1];
    },
    changes() {
      return this.deck.changes;
    },
    open() {
      return this.toggled ?? screen.wide;
    },
    primary() {
      const card = this.face;
      if (card.can_start) return { action: "start", label: "Start", icon: "play_arrow", color: "primary" };
      if (card.can_stop) return { action: "stop", label: "Stop", icon: "stop", color: "negative" };
      return { action: "", label: "Stopping", icon: "stop", color: "grey-7", disable: true };
    },
    entries() {
      return this.deck.menu.filter((entry) => !entry.when || this.face[entry.when]);
    },
    lines() {
      const card = this.face;
      return [
        { kind: "unknown", text: card.unknown, look: "text-orange-10" },
        { kind: "problem", text: card.problem, look: "text-negative" },
        { kind: "blocked", text: card.blocked, look: "text-negative" },
        { kind: "pending", text: card.pending, look: "text-warning" },
        { kind: "waiting", text: card.waiting, look: "opacity-80" },
        { kind: "traffic", text: card.traffic, look: "" },
        { kind: "unload", text: card.unload_at ? unloadsIn(card.unload_at) : "", look: "opacity-80" },
        { kind: "fit", text: card.fits || this.open ? "" : card.fit, look: "" },
      ].filter((line) => line.text);
    },
  },
};
