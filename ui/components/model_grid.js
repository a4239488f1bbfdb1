// The grid of model cards. The search and the status filter leave some cards on screen (`shown`: their uids, or
// null for all): the grid hides the others itself, on the DOM, so a keystroke re-renders no card (with 1,000
// cards, re-rendering each for its visibility took a fifth of a second). It also hands its cards what their menu
// holds and whether the person may change models (one copy for the page, not one per card).
import { computed } from "vue";

const asSet = (uids) => (uids === null || uids === undefined ? null : new Set(uids));

export default {
  template: `<div class="w-full grid gap-3 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"><slot></slot></div>`,
  props: { shown: { type: Array, default: null }, menu: Array, changes: Boolean },
  data() {
    return { filter: asSet(this.shown) };
  },
  watch: {
    shown(uids) {
      this.showOnly(uids);
    },
  },
  mounted() {
    this.hideOthers();
  },
  updated() {
    this.hideOthers(); // cards added since
  },
  methods: {
    // The server calls this on each keystroke (a method call, so the grid does not re-render).
    showOnly(uids) {
      this.filter = asSet(uids);
      this.hideOthers();
    },
    hideOthers() {
      for (const card of this.$el.children) {
        card.style.display = !this.filter || this.filter.has(card.dataset.uid) ? "" : "none";
      }
    },
  },
  provide() {
    return { deckMenu: computed(() => ({ entries: this.menu, changes: this.changes })) };
  },
};
