// One model's card, rendered in the browser from its face (ui/components/card_face.py): one NiceGUI element per
// card instead of a tree of bound elements. Taps go back to the server as one `action` event with the action's
// name; the server decides (ui/components/model_card.py). The `leading` slot holds what the page puts before the
// name (select mode's box).
//
// A card far below the screen shows its words (name, status, speed, details) but not yet its controls: the
// buttons, the menu and the leading slot are built once the card comes within a screen or so of view (one shared
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
    <q-card class="w-full model-card" :data-status="face.status" :data-uid="face.uid"
            style="content-visibility: auto; contain-intrinsic-size: auto 64px">
      <div class="flex items-center no-wrap gap-1 px-2 py-1">
        <slot v-if="near" name="leading"></slot>
        <div role="button" tabindex="0" class="min-w-0 grow min-h-[44px] flex flex-col justify-center cursor-pointer
             rounded focus-visible:outline" :aria-expanded="String(open)" @click="toggle"
             @keydown.enter.prevent="toggle" @keydown.space.prevent="toggle">
          <div class="text-base font-bold leading-tight line-clamp-2" style="overflow-wrap: anywhere">{{ face.name }}</div>
          <div class="flex items-center no-wrap gap-2 text-sm">
            <span class="q-badge text-sm px-2" :class="badge">{{ face.status }}</span>
            <span v-if="face.speed" class="font-bold whitespace-nowrap">{{ face.speed }}</span>
            <span v-else class="opacity-70 truncate">{{ face.family }}</span>
          </div>
        </div>
        <div v-if="!near" class="min-h-[44px] shrink-0" :class="changes ? 'min-w-[140px]' : 'min-w-[44px]'"></div>
        <q-btn v-if="near && changes" unelevated no-caps class="min-h-[44px] min-w-[92px] shrink-0" :color="primary.color"
               :disable="primary.disable" @click="$emit('action', primary.action)">
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
                        :data-action="entry.action" @click="$emit('action', entry.action)">
                  <q-item-section>{{ entry.label }}</q-item-section>
                </q-item>
              </template>
            </q-list>
          </q-menu>
        </q-btn>
      </div>
      <div v-if="lines.length || open" class="px-2 pb-2 text-sm flex flex-col gap-0">
        <div v-for="line in lines" :key="line.kind" :id="line.kind + '-' + face.uid" :class="line.look"
             class="break-words">{{ line.text }}</div>
        <template v-if="open">
          <div v-if="face.speed" class="opacity-80">{{ face.family }}</div>
          <div class="break-all">{{ face.file }}</div>
          <div>{{ face.settings }}</div>
          <div v-if="face.memory">{{ face.memory }}</div>
          <div v-if="face.placement">{{ face.placement }}</div>
          <div v-if="face.fit" class="opacity-80">{{ face.fit }}</div>
        </template>
      </div>
    </q-card>`,
  props: { card: Object },
  emits: ["action"],
  // From the grid (an injected ref arrives unwrapped): the menu's entries, and whether the person may start, stop
  // and change models (admins). The grid also hides the cards a search leaves out.
  inject: { deckMenu: { default: () => ({ entries: [], changes: false }) } },
  watch: {
    card() {
      this.fresh = null; // a full update from the server says everything again
    },
  },
  mounted() {
    waiting.set(this.$el, this);
    nearby.observe(this.$el);
  },
  beforeUnmount() {
    nearby.unobserve(this.$el);
  },
  methods: {
    // The server sends a changed face here rather than updating the element: an element's update re-renders its
    // parent (the grid) and with it every card; this re-renders this card alone.
    show(face) {
      this.fresh = face;
    },
    toggle() {
      this.toggled = !this.open;
    },
  },
  data() {
    // toggled: the person's own choice, once they tapped; until then the screen's width decides
    // fresh: the face `show` sent since the last full update of the card (see `show`)
    return { toggled: null, near: false, fresh: null };
  },
  computed: {
    face() {
      return this.fresh ?? this.card;
    },
    badge() {
      return "bg-" + this.face.badge[0] + " text-" + this.face.badge[1];
    },
    changes() {
      return this.deckMenu.changes;
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
      return this.deckMenu.entries.filter((entry) => !entry.when || this.face[entry.when]);
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
