// The grid of model cards. It holds every card's face as data (`faces`, by uid, in the deck's `order`) and
// renders each card from it (model_card.js). Its props are the page as it loaded (the first screen of cards), read
// once; the server sends every change after it as a method call (add, drop, show, select, chooseStatus), never by
// updating the element: an update would send and re-render every card.
//
// Search runs here as a person types: the grid listens to the page's search box itself and keeps on screen the
// cards whose `match` text holds every word (the rule of ui/components/model_grid.py, `matches`), and whose status
// is the one the server says is chosen. No round trip, and a keystroke renders nothing: the grid sets each card's
// display on the DOM itself (re-rendering the grid for it, with a v-show per card, took 70 to 150 ms with 1,000).
import { markRaw, reactive, toRaw } from "vue";
import ModelCard from "model_card";

const wordsOf = (text) => (text || "").toLowerCase().split(/\s+/).filter(Boolean);
// A face is replaced whole, never changed in place: no need for Vue to watch inside it.
const facesOf = (cards) => Object.fromEntries(cards.map(([uid, face]) => [uid, markRaw(face)]));

export default {
  components: { ModelCard },
  template: `
    <div class="w-full grid gap-3 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3">
      <model-card v-for="uid in list" :key="uid" :uid="uid"></model-card>
    </div>`,
  props: {
    order: Array,
    faces: Object,
    menu: Array,
    changes: Boolean,
    search: String, // the html id of the page's search box
    status: String,
  },
  emits: ["action", "pick"],
  data() {
    // the store the cards read (each card re-renders only when its own face changes); made here, before provide()
    const deck = reactive({ faces: {}, menu: [], changes: false, selecting: false, selected: new Set() });
    deck.act = (uid, action) => this.$emit("action", uid, action);
    deck.pick = (uid, on) => {
      if (on) deck.selected.add(uid);
      else deck.selected.delete(uid);
      this.$emit("pick", uid, on);
    };
    return { deck, list: [] };
  },
  created() {
    Object.assign(this.deck, { faces: facesOf(Object.entries(this.faces)), menu: this.menu, changes: this.changes });
    this.list = [...this.order];
    // not reactive: nothing renders from them
    Object.assign(this, { words: [], chosen: this.status, hidden: new Set() });
  },
  mounted() {
    this.box = document.getElementById(this.search);
    this.typed = (event) => {
      this.words = wordsOf(event.target.value);
      this.refilter();
    };
    this.box?.addEventListener("input", this.typed);
    if (this.box) this.words = wordsOf(this.box.querySelector("input")?.value);
    this.refilter();
  },
  updated() {
    this.hideOthers(); // cards added since
  },
  beforeUnmount() {
    this.box?.removeEventListener("input", this.typed);
  },
  provide() {
    return { deck: this.deck };
  },
  methods: {
    // the cards the search leaves out (read from the raw data: a keystroke reads 1,000 faces)
    leftOut(uids) {
      const [faces, words, chosen] = [toRaw(this.deck.faces), this.words, this.chosen];
      if (!words.length && chosen === "any") return new Set();
      const shows = (face) => (chosen === "any" || face.status === chosen) && words.every((w) => face.match.includes(w));
      return new Set(toRaw(uids).filter((uid) => !shows(faces[uid])));
    },
    shows(uid) {
      return !this.leftOut([uid]).size;
    },
    refilter() {
      this.hidden = this.leftOut(this.list);
      this.hideOthers();
    },
    hideOthers() {
      for (const card of this.$el?.children ?? []) {
        const display = this.hidden.has(card.dataset.uid) ? "none" : "";
        if (card.style.display !== display) card.style.display = display;
      }
    },
    // what the server calls
    add(cards, index) {
      const fresh = cards.filter(([uid]) => !(uid in this.deck.faces));
      Object.assign(this.deck.faces, facesOf(cards));
      const uids = fresh.map(([uid]) => uid);
      if (index === null || index === undefined) this.list.push(...uids);
      else this.list.splice(index, 0, ...uids);
      this.hidden = this.leftOut(this.list); // applied once the new cards are rendered (updated)
    },
    drop(uid) {
      const at = this.list.indexOf(uid);
      if (at >= 0) this.list.splice(at, 1);
      delete this.deck.faces[uid];
      this.deck.selected.delete(uid);
    },
    show(uid, face) {
      if (!(uid in this.deck.faces)) return;
      this.deck.faces[uid] = markRaw(face);
      const hide = !this.shows(uid);
      if (hide !== this.hidden.has(uid)) {
        if (hide) this.hidden.add(uid);
        else this.hidden.delete(uid);
        const card = [...this.$el.children].find((element) => element.dataset.uid === uid);
        if (card) card.style.display = hide ? "none" : "";
      }
    },
    chooseStatus(status) {
      this.chosen = status;
      this.refilter();
    },
    select(active, uids) {
      this.deck.selecting = active;
      this.deck.selected = new Set(uids);
    },
  },
};
