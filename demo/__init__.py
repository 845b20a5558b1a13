"""`make demo`: the whole product offline, against built-in demo providers.

- `demo.config`: the fixed ports, keys, accounts and the environment the site runs with;
- `demo.music`, `demo.content`, `demo.build`: the demo catalog and sample library, composed in code
  and rendered with FluidSynth (corpus.render) into a cache under the demo's var folder;
- `demo.providers`: the fake Deezer and Freesound (fakeapis) filled with that content, on fixed ports;
- `python -m demo`: migrate, build, create the accounts, then serve web, worker, beat and providers.

The site itself knows nothing of this package except the banner (DEMO_MODE) and `manage.py demo_setup`.
"""
