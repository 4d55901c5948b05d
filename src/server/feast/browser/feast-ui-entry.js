// Feast's web UI (@feast-dev/feast-ui) as a page: bundled for the browser by
// build-feast-ui.ts and served by `larder serve --feast-ui` at /feast.
// Every EUI icon in its cache before the first render (see build-feast-ui.ts).
import "larder:eui-icons";
import FeastUI from "@feast-dev/feast-ui";
import "@feast-dev/feast-ui/dist/feast-ui.css";
import React from "react";
import { createRoot } from "react-dom/client";

createRoot(document.getElementById("root")).render(React.createElement(FeastUI));
