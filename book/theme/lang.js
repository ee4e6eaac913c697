// The language switch: a link, in the menu bar of every page, to the same
// page in the other edition. The English book is at the root of the build,
// the French one in fr/; both have the same page names, so the link is the
// current page's name under the other edition's root (this works from
// files as well as from a server). `path_to_root` is mdBook's: the way from
// this page to its edition's root.
(function () {
    const french = document.documentElement.lang === "fr";
    const page = window.location.pathname.split("/").pop() || "index.html";
    const link = document.createElement("a");
    link.className = "lang-switch";
    link.href = path_to_root + (french ? "../" : "fr/") + page + window.location.hash;
    link.hreflang = french ? "en" : "fr";
    link.lang = link.hreflang;
    link.textContent = french ? "English" : "Français";
    link.title = french ? "Read this page in English" : "Lire cette page en français";
    const buttons = document.querySelector(".right-buttons");
    if (buttons) {
        buttons.prepend(link);
    }
})();
