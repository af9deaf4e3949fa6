# Rank of the accumulated update and loss, ScaLoRA against LoRA, r = 2 (tools/figures.sh).
set terminal svg size 1000,400 font 'Helvetica,12' background rgb 'white'
set output out.'/rank_growth.svg'
set termoption noenhanced
f = data.'/rank_growth.dat'
set multiplot layout 1,2 title "Least squares, W 32 × 24, target rank 16 above W_0, r = 2, one SGD step per step (lr = 0.5 / L)" font ',12'
set title 'rank of W_t − W_0'
set xlabel 'step t'
set ylabel 'rank'
set yrange [0:26]
set xrange [0:100]
set key at graph 0.97, 0.45 right box opaque font ',10'
plot f using 1:2 with lines lw 2 lc rgb '#264653' title 'ScaLoRA', \
     f using 1:3 with lines lw 2 lc rgb '#e76f51' title 'LoRA', \
     4 with lines dt 2 lc rgb '#e76f51' title "2r, LoRA's bound (A₀B₀ᵀ ≠ 0)", \
     24 with lines dt 3 lc rgb '#777777' title 'min(m, n)'
set title 'loss'
set ylabel 'ℓ(W_t)'
set logscale y
set autoscale y
set key default
set key top right box opaque font ',10'
plot f using 1:4 with lines lw 2 lc rgb '#264653' title 'ScaLoRA', \
     f using 1:5 with lines lw 2 lc rgb '#e76f51' title 'LoRA'
unset multiplot
