// The grid of model cards. It tells its cards which of them the search and the status filter leave on screen
// (`shown`: their uids, or null for all), so a keystroke changes one small prop instead of every card, and what
// every card's menu holds and whether the person may change models (one copy for the page, not one per card).
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
      this.filter = asSet(uids);
    },
  },
  methods: {
    // The server calls this on each keystroke (a method call, so the grid and its cards do not re-render).
    showOnly(uids) {
      this.filter = asSet(uids);
    },
  },
  provide() {
    return {
      deckFilter: computed(() => this.filter),
      deckMenu: computed(() => ({ entries: this.menu, changes: this.changes })),
    };
  },
};
