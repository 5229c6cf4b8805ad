"""The browser interface (``sim ui``): a Solara app for workshops and strategists.

Modules:

* :mod:`sim.ui.i18n` - Swedish and English texts;
* :mod:`sim.ui.logic` - pure functions behind the views (settings, series, geometry, comparisons);
* :mod:`sim.ui.charts` - SVG chart components (Vue templates) that update their data in place;
* :mod:`sim.ui.live` and :mod:`sim.ui.compare` - the two views;
* :mod:`sim.ui.app` - the page (one model per browser session);
* :mod:`sim.ui.mesa_view` - the secondary page on Mesa's SolaraViz (``sim ui --view mesa``);
* :mod:`sim.ui.commands` - the ``sim ui`` command.
"""
