# Theorem 3's table in the (a, b) plane, a = alpha^2, b = beta^2 (tools/figures.sh).
set terminal svg size 1140,470 font 'Helvetica,12' background rgb 'white'
set output out.'/theorem3_regions.svg'
set termoption noenhanced
rows = 'beta_zero alpha_zero interior'
unset key
set label 100 "grey: level sets of the bound's decrease;  ×: the quadratic's unconstrained minimiser c (C_A, C_B) / C;  ●: the optimum on the quadrant (the row)" at screen 0.5, 0.04 center font ',10'
set bmargin 6
set multiplot layout 1,3 title "Theorem 3: contours of the bound's decrease over (a, b) = (α², β²); the method may only use the quadrant a, b ≥ 0" font ',13'
do for [i = 1:3] {
  name = word(rows, i)
  grid = data.'/theorem3_'.name.'.grid'
  pts = data.'/theorem3_'.name.'.points'
  set autoscale xy
  stats grid using 3 nooutput
  top = STATS_max
  set contour base
  unset surface
  set view map
  set cntrparam levels discrete top*0.99, top*0.9, top*0.75, top*0.5, top*0.25, 0, -top*0.5, -top
  set table data.'/theorem3_'.name.'.contours'
  splot grid using 1:2:3 with lines
  unset table
  unset contour
  stats grid using 1:2 nooutput
  set xrange [STATS_min_x:STATS_max_x]
  set yrange [STATS_min_y:STATS_max_y]
  set xlabel 'a = α²'
  set ylabel 'b = β²'
  set xzeroaxis lt -1 lw 1.5
  set yzeroaxis lt -1 lw 1.5
  set object 1 rectangle from first 0, first 0 to graph 1, graph 1 fillstyle solid 0.12 noborder fillcolor rgb '#2a9d8f' behind
  if (name eq 'beta_zero') { set title "row 'B off': C_A > 0, C_B ≤ 0 → b = 0\n(suite case scalar_only_beta_zero)" }
  if (name eq 'alpha_zero') { set title "row 'A off': C_A ≤ 0, C_B > 0 → a = 0\n(suite case scalar_only_alpha_zero)" }
  if (name eq 'interior') { set title "row 'interior': C_A, C_B ≥ 0, C > 0\n(worked example, docs/theory.md)" }
  plot data.'/theorem3_'.name.'.contours' using 1:2 with lines lc rgb '#777777' notitle, \
       pts every ::1::1 using 1:2 with points pt 2 ps 2 lw 2 lc rgb '#e76f51' notitle, \
       pts every ::0::0 using 1:2 with points pt 7 ps 1.6 lc rgb '#264653' notitle
  unset object 1
}
unset multiplot
