// The grid of model cards. It tells its cards which of them the search and the status filter leave on screen
// (`shown`: their uids, or null for all), so a keystroke changes one small prop instead of every card, and what
// every card's menu holds and whether the person may change models (one copy for the page, not one per card).
import { computed } from "vue";

export default {
  template: `<div class="w-full grid gap-3 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"><slot></slot></div>`,
  props: { shown: { type: Array, default: null }, menu: Array, changes: Boolean },
  provide() {
    return {
      deckFilter: computed(() => (this.shown === null ? null : new Set(this.shown))),
      deckMenu: computed(() => ({ entries: this.menu, changes: this.changes })),
    };
  },
};
